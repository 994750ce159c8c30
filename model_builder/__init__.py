"""Kilowise's offline side: train, evaluate and export the forecasting model."""
