"""The pure NumPy reference: one module per layer, each with pure ``forward``/``backward``.

Nothing here imports anything but NumPy; this package is the oracle the adapters are
judged against.  Activations are NCHW; computations run in the input's float dtype.
"""
