"""Cross-package benchmarks and demos (where the packages meet): the planning task
benchmark with the in-process simulator, the demo client of planner/plan."""
