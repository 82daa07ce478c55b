from setuptools import find_packages, setup

package_name = "gs_push_executor"

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
    description="robot/execute_push on real arms: IK from the URDF, checked push trajectories, "
    "ros2_control / xArm SDK / moveit_py backends",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "push_executor = gs_push_executor.push_executor_node:main",
        ],
    },
)
