"""Grid Optimizer: search a trading strategy's parameter grid on historical prices."""

__version__ = "0.1.0"
