from . import credit_dunning_hold_wizard
from . import credit_penalty_waive_wizard
from . import credit_penalty_invoice_wizard
from . import credit_penalty_statement_wizard
from . import credit_penalty_compensation_wizard
from . import credit_dunning_letter_cancel_wizard
