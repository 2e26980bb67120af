from . import test_dunning_policy
from . import test_dunning_run
from . import test_dunning_send
from . import test_dunning_hold
from . import test_dunning_access
from . import test_dunning_concurrency
from . import test_reports
from . import test_tour
