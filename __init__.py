from . import models
from . import wizards
from .hooks import pre_init_hook
from .hooks import post_init_hook
