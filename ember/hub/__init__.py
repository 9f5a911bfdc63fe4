"""ember.hub: torch.hub's API (cached checkpoint downloads, ``hubconf.py`` entry points) and a
timm-style model registry over ``ember.vision.models`` (``list_models``, ``create_model``,
``resolve_data_config``, ``create_transform``).

Importing it is cheap: the network, serialization and vision code load when first used.
"""
from ._hub import download_url_to_file, get_dir, help, list, load, load_state_dict_from_url, set_dir
from ._registry import (adapt_input_conv, create_model, create_transform, get_pretrained_cfg, list_models,
                        resolve_data_config)

__all__ = ['download_url_to_file', 'get_dir', 'help', 'list', 'load', 'load_state_dict_from_url', 'set_dir',
           'adapt_input_conv', 'create_model', 'create_transform', 'get_pretrained_cfg', 'list_models',
           'resolve_data_config']
