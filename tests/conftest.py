import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402

# One intra-op thread for the oracle as for Ember: two pytest workers on two cores would otherwise
# oversubscribe the machine and make timings (and the suite) erratic.
torch.set_num_threads(1)
