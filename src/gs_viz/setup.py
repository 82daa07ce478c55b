from setuptools import find_packages, setup

package_name = "gs_viz"

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
    description="Markers, Foxglove WebSocket bridge and scene snapshots of the gs_dynamics stack",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "markers_node = gs_viz.markers_node:main",
            "foxglove_bridge = gs_viz.foxglove_bridge_node:main",
            "gs-viz = gs_viz.cli:main",
        ],
    },
)
