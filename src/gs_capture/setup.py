from setuptools import find_packages, setup

package_name = "gs_capture"

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
    description="RealSense multi-camera capture, MCAP episode recorder and replay, ChArUco "
    "rig calibration",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "realsense_node = gs_capture.realsense_node:main",
            "record_node = gs_capture.record_node:main",
            "gs-record = gs_capture.record_node:main",
            "replay_node = gs_capture.replay_node:main",
            "gs-calibrate = gs_capture.calibrate_cli:main",
        ],
    },
)
