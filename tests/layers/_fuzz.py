"""Hypothesis building blocks the layers' fuzz strategies share (imported only when a fuzz
test runs: hypothesis is a dev dependency)."""

from __future__ import annotations

from hypothesis import strategies as st

small = st.integers(1, 3)


def pair_or_int(values):
    return st.one_of(values, st.tuples(values, values))


@st.composite
def paddings(draw, limit: int):
    """Every padding form the reference accepts, each side in [0, limit]."""
    side = st.integers(0, limit)
    return draw(
        st.one_of(
            side,
            st.tuples(side, side),
            st.tuples(st.tuples(side, side), st.tuples(side, side)),
            st.sampled_from(["valid", "same"]),
        )
    )


def seeds():
    return st.integers(0, 2**32 - 1)


def pool_configs(dilation: bool, values: tuple[str, ...] = ()):
    """Max-pool (``dilation=True``) or average-pool configurations (no dilation, but
    count_include_pad and divisor_override).  ``values``: the value styles to draw
    (``tests.cases.styled``), put in the configuration as ``"values"``; none if empty."""

    @st.composite
    def configs(draw):
        shape = {
            "n": draw(st.integers(1, 2)),
            "c": draw(st.integers(1, 2)),
            "h": draw(st.integers(1, 9)),
            "w": draw(st.integers(1, 9)),
        }
        attrs = {
            "kernel_size": draw(pair_or_int(small)),
            "stride": draw(st.one_of(st.none(), pair_or_int(small))),
            "padding": draw(paddings(1)),
            "ceil_mode": draw(st.booleans()),
        }
        if dilation:
            attrs["dilation"] = draw(pair_or_int(st.integers(1, 2)))
        else:
            attrs["count_include_pad"] = draw(st.booleans())
            attrs["divisor_override"] = draw(st.sampled_from([None, None, None, 3]))
        config = {"shape": shape, "attrs": attrs, "seed": draw(seeds())}
        if values:
            config["values"] = draw(st.sampled_from(values))
        return config

    return configs()
