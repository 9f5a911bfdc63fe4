"""``ember.utils``: ``ember.utils.data`` (datasets, samplers, collate and the DataLoader)."""
from . import data
