"""spm-training: train and onboard sales teams, and see which skills hold back which KPIs."""

__version__ = "0.1.0"
