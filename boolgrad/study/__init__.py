"""The overshoot study and the seeds' systems (theory, simulation, training, runner).

Imports numpy only; torch, dask and the datasets are imported by the submodules that need them.
"""
