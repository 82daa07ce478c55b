"""Offline pipeline on Ray: episodes -> tracking -> training -> evaluation."""
