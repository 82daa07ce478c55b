from setuptools import find_packages, setup

package_name = "gs_sim"

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
    description="MuJoCo workcell (deformable objects, xArm7 pusher, 4 RGB-D cameras) and "
    "ground-truth episode generator",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "sim_node = gs_sim.sim_node:main",
            "gs-sim = gs_sim.cli:main",
            "gs-sim-bench = gs_sim.bench:main",
        ],
    },
)
