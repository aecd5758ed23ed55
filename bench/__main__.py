"""`python -m bench` lists the benchmarks."""

import pkgutil

import bench

for module in pkgutil.iter_modules(bench.__path__):
    print(f"python -m bench.{module.name}")
