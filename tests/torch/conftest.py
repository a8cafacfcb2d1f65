"""torch runs on one intra-op thread here: the suite runs one pytest process per
core (pytest-xdist), and torch's own threads would oversubscribe the cores
(measured on the 2 shared cores: one gradient of the network test's MLP took
480 ms with 2 threads, 21 ms with 1)."""

import torch

torch.set_num_threads(1)

