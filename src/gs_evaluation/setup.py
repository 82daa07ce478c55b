from setuptools import find_packages, setup

package_name = "gs_evaluation"

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
    description="Cross-package benchmarks and demos: the planning task benchmark with the "
    "in-process simulator (gs-plan bench / episode), the planner demo client",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "gs-plan = gs_evaluation.plan_cli:main",
        ],
    },
)
