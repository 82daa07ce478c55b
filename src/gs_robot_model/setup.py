from glob import glob

from setuptools import find_packages, setup

package_name = "gs_robot_model"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml", "README.md"]),
        ("share/" + package_name + "/models/xarm7", glob("models/xarm7/*")),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="gs_dynamics developers",
    maintainer_email="dev@gs-dynamics.invalid",
    description="Differentiable robot self-model (Dr. Robot): Gaussians + FK + implicit LBS",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "robot_model_node = gs_robot_model.robot_model_node:main",
            "gs-robot = gs_robot_model.cli:main",
        ],
    },
)
