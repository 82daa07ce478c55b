from setuptools import find_packages, setup

package_name = "gs_pipeline"

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
    description="The offline pipeline (episodes -> tracking -> training -> evaluation) on Ray",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "gs-pipeline = gs_pipeline.cli:main",
        ],
    },
)
