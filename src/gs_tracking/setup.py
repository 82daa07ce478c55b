from setuptools import find_packages, setup

package_name = "gs_tracking"

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
    description="Dense 3D Gaussian tracking of deforming objects from multi-view RGB-D",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "tracking_node = gs_tracking.tracking_node:main",
            "gs-track = gs_tracking.cli:main",
            "gs-track-eval = gs_tracking.evaluate:main",
            "gs-track-bench = gs_tracking.bench:main",
        ],
    },
)
