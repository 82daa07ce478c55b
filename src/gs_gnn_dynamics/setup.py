from glob import glob

from setuptools import find_packages, setup

package_name = "gs_gnn_dynamics"

setup(
    name=package_name,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + package_name]),
        ("share/" + package_name, ["package.xml", "README.md"]),
        (
            "share/" + package_name + "/models",
            sorted(glob("models/*.safetensors")) + sorted(glob("models/*.json")),
        ),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="gs_dynamics developers",
    maintainer_email="dev@gs-dynamics.invalid",
    description="Particle GNN dynamics: model, training, evaluation, LBS, predict service",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "dynamics_node = gs_gnn_dynamics.dynamics_node:main",
            "gs-dyn = gs_gnn_dynamics.cli:main",
        ],
    },
)
