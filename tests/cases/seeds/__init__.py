"""Every worked example in ``shared/seeds/`` as a named case, one module per seed.

Fixtures are stored in the reference's layout: activations NCHW, conv weights OIHW
(M, C/groups, kh, kw), linear weights (in_features, out_features).  Where a seed works in
TF/Keras (NHWC activations, HWIO kernels) the conversion is written out in the case.

Every ``expected`` names its source in ``provenance``: either the value the seed prints,
or, where the seed prints nothing, a derivation by hand from the definitions, written
beside the case.  Ids start with the seed number (``s002_...``) except ``guide_5x5``,
the Dumoulin & Visin figure.  Seed values that cannot be reproduced (random weights the
seed never prints, printed outputs that contradict printed inputs) are not asserted;
the module says why at that spot.
"""

from tests.cases import Case, registered
from tests.cases.seeds import seed000, seed001, seed002, seed003, seed004  # noqa: F401


def seed_cases(layer: str) -> tuple[Case, ...]:
    """The seeds' cases for one layer key (``"conv2d"``), in declaration order."""
    return registered(layer)
