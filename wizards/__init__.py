from . import credit_dunning_hold_wizard
