from setuptools import find_packages, setup

package_name = "gs_segmentation"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml", "README.md"]),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="gs_dynamics developers",
    maintainer_email="dev@gs-dynamics.invalid",
    description="Object masks and the fused object cloud from multi-view RGB-D",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "segmentation_node = gs_segmentation.segmentation_node:main",
            "gs-seg = gs_segmentation.cli:main",
        ],
    },
)
