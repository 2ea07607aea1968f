"""The known divergences of the ONNX adapters (onnxruntime, onnx_reference), part of the
one declared list in tests/known_divergences.py (which explains the entries' fields and
how each is enforced).  The models of the wrong values are in
tests/divergence_signatures_onnx.py and tests/divergence_signatures_onnx_pool.py."""

from __future__ import annotations

from tests import divergence_signatures_onnx as onnx_signatures
from tests import divergence_signatures_onnx_pool as onnx_pool_signatures
from tests.divergence_entry import Divergence

ONNX_DIVERGENCES: list[Divergence] = [
    # ONNX (adapters/_onnx_export.py): measured with torch 2.13.0's torch.onnx.export
    # (dynamo=True, onnxscript 0.7.2, opset 20), onnxruntime 1.32.0 and onnx 1.23.2.
    *(
        Divergence(
            key=f"{name}-export-drops-divisor-override",
            layer="avgpool2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                "torch.onnx.export drops AvgPool2d's divisor_override without a word: the "
                "exported AveragePool divides by the window size (kernel 2x2, "
                "divisor_override=3: every output is 3/4 of torch's).  onnxscript's "
                "torch_lib aten_avg_pool2d takes divisor_override and never reads it ('TODO: "
                "if want to support divisor_override argument'); the TorchScript exporter "
                "refused it instead.  Matched: the output must equal the exported "
                "AveragePool without divisor_override (torch's windows and divisors) within "
                "the comparison's bound; another wrong value fails"
            ),
            issue="https://github.com/pytorch/pytorch/issues/105349",
            enforced="matched",
            evidence="tests/adapters/test_onnx_adapters.py::test_export_drops_divisor_override",
            signature=onnx_pool_signatures.DROPS_DIVISOR_OVERRIDE,
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
    *(
        Divergence(
            key=f"{name}-export-drops-label-smoothing",
            layer="cross_entropy",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                "torch.onnx.export drops CrossEntropyLoss's label_smoothing without a word: "
                "the exported SoftmaxCrossEntropyLoss computes the unsmoothed loss (case "
                "ce_smooth_golden, logits [[0, ln 3]], target [0], label_smoothing=0.2: "
                "ln 4 = 1.3863, torch and the reference 1.2764).  onnxscript's torch_lib "
                "aten_cross_entropy_loss takes label_smoothing and never reads it ('# this "
                "was ignored due to ONNX not support', since microsoft/onnxscript#444); the "
                "TorchScript exporter refused it ('Unsupported: ONNX does not support "
                "label_smoothing').  Matched: the output must equal the unsmoothed loss "
                "(logsumexp(x) - x[target], reduced) within the comparison's bound; another "
                "wrong value fails"
            ),
            issue="https://github.com/microsoft/onnxscript/pull/444",
            enforced="matched",
            evidence="tests/adapters/test_onnx_adapters.py::test_export_drops_label_smoothing",
            signature=onnx_pool_signatures.DROPS_LABEL_SMOOTHING,
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
    *(
        Divergence(
            layer=layer,
            case=case,
            adapter="onnxruntime",
            direction="forward",
            reason=(
                f"{through}ONNX Runtime's CPU Sigmoid is accurate to an absolute error of "
                "about one epsilon, not to a few ulps of the result: measured on a grid over "
                "[-60, 60], max |error| 1.3 eps (float32), 1.0 eps (float64); 8.9 ulps at "
                "-2 < x < 0; sigmoid(-17) = 8.94e-08 in float32 (exact 4.14e-08), and 0.0 "
                "for every x <= -15.96 (float32) / x <= -36.74 (float64).  Also reported "
                "with torch exports as pytorch/pytorch#147508"
            ),
            issue="https://github.com/microsoft/onnxruntime/issues/22557",
        )
        for layer, case, through in (
            ("sigmoid", "*", ""),
            (
                "silu",
                "*",
                "SiLU exports as Mul(x, Sigmoid(x)) and ONNX Runtime's output is exactly x "
                "times its Sigmoid (tests/adapters/test_onnx_adapters.py::"
                "test_onnxruntime_silu_and_bce_logits_inherit_its_sigmoid): silu_nchw "
                "gives -0.0 where silu(-24.4) = -1.29e-09 (float32), max relative error "
                "1.1e-06 (float32), 9.6e-08 (float64).  ",
            ),
            (
                "binary_cross_entropy",
                "bce_logits_large",
                "BCEWithLogitsLoss exports as (1 - target) * x - Log(Sigmoid(x)): ONNX "
                "Runtime's Sigmoid(-60) = 0 gives log(0) = -inf and a loss of inf where "
                "torch, onnx.reference (same graph) and the reference give 31.46 (tests/"
                "adapters/test_onnx_adapters.py::"
                "test_onnxruntime_silu_and_bce_logits_inherit_its_sigmoid).  ",
            ),
        )
    ),
    Divergence(
        layer="cross_entropy",
        case="ce_index_large_logits",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's SoftmaxCrossEntropyLoss takes log(softmax(x)) after the "
            "softmax has underflowed: logits [251.4, 946.1, -409.6], target 2 give "
            "log(0) = -inf and a loss of inf, where the loss is logsumexp(x) - x[2] = "
            "946.13 + 409.56 = 1355.69 (torch, ONNX Runtime and the reference agree; mean "
            "601.05).  Fixed upstream by onnx/onnx#8423 (merged 2026-09), not in onnx 1.23.2"
        ),
        issue="https://github.com/onnx/onnx/pull/8423",
    ),
    # Ceil-mode pooling in older runtimes (the tox environment py311-onnxold: onnxruntime
    # 1.20.1, onnx 1.17.0).  Matched: the probes of adapters/_onnx_rules.py
    # (runtime_ceil_bugs) select the bug, and the model of that release's whole pooling
    # output (tests/divergence_signatures_onnx_pool.py) must explain the failing output;
    # onnxruntime 1.32.0 and onnx 1.23.2 have none of them, and run the same cases.
    *(
        Divergence(
            key=f"{name}-ceil-window-in-padding",
            layer="*pool2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                f"{runtime} keeps the last ceil-mode pooling window when it would start in "
                "the right padding, which torch drops: x (1,2,7,4), kernel 2, stride 3, "
                "padding 1 gives (4, 3) outputs where torch gives (3, 2).  Matched: the output "
                "must equal that release's pooling (the extra window: the dtype's lowest value "
                "in MaxPool, 0 in AveragePool; onnx 1.17 pads to the rounded-up length, half "
                "the extra cells before) within the comparison's bound.  Measured with "
                f"{measured}; fixed by {fixed}"
            ),
            issue=issue,
            enforced="matched",
            evidence=(
                "tests/adapters/test_onnx_bug_models.py::test_ceil_pool_bugs_match_their_models"
            ),
            signature=onnx_pool_signatures.POOL_BUGS[(name, "window-in-padding")],
        )
        for name, runtime, measured, fixed, issue in (
            (
                "onnxruntime",
                "ONNX Runtime's MaxPool and AveragePool",
                "onnxruntime 1.20.1",
                "microsoft/onnxruntime#16752 (1.32.0 drops it)",
                "https://github.com/microsoft/onnxruntime/issues/15446",
            ),
            (
                "onnx_reference",
                "onnx.reference's AveragePool (its MaxPool drops it since onnx/onnx#5741)",
                "onnx 1.17.0",
                "onnx/onnx#6650 (1.23.2 drops it)",
                "https://github.com/onnx/onnx/issues/4958",
            ),
        )
    ),
    *(
        Divergence(
            key=f"{name}-ceil-overhang-divisor",
            layer="avgpool2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                f"{runtime} divides a ceil-mode AveragePool window (count_include_pad=1) "
                "that runs past the padding by the whole kernel, where torch divides by the "
                "cells of the input and padding it covers: x (1,2,8,8), kernel 3, stride 2 "
                "gives 4/9 of torch's value in the last row and column's corner.  Matched: "
                "the output must equal that release's AveragePool within the comparison's "
                f"bound; another wrong value fails.  Measured with {measured}; fixed by {fixed}"
            ),
            issue=issue,
            enforced="matched",
            evidence=(
                "tests/adapters/test_onnx_bug_models.py::test_ceil_pool_bugs_match_their_models"
            ),
            signature=onnx_pool_signatures.POOL_BUGS[(name, "overhang-divisor")],
        )
        for name, runtime, measured, fixed, issue in (
            (
                "onnxruntime",
                "ONNX Runtime",
                "onnxruntime 1.20.1",
                "microsoft/onnxruntime#16752 (1.32.0 agrees with torch)",
                "https://github.com/microsoft/onnxruntime/issues/16203",
            ),
            (
                "onnx_reference",
                "onnx.reference",
                "onnx 1.17.0",
                "onnx/onnx#6650 (1.23.2 agrees with torch)",
                "https://github.com/onnx/onnx/issues/5276",
            ),
        )
    ),
    # onnx.reference's ceil-mode AveragePool (onnx/reference/ops/op_pool_common.py, onnx
    # 1.17.0 to 1.23.2): the current release's own wrong value, modelled exactly.
    Divergence(
        key="onnx_reference-ceil-extra-pad-before",
        layer="avgpool2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's ceil-mode AveragePool pads the input to the rounded-up length "
            "(out - 1) * stride + kernel with half the extra cells before it (op_pool_common.py "
            "get_output_shape_explicit_padding: 'pads_spatial_shape_new[dim] += extra_pad // "
            "2'), so every window on that axis starts that many cells early; onnx 1.23.2's "
            "pool() then keeps only taps below in + pads, dropping the last real cells (fuzz: "
            "x (1,1,1,4), kernel 3, padding (1, 0), ceil_mode, count_include_pad=False gives "
            "[mean(x0, x1), x2] where torch gives [mean(x0, x1, x2), x3]; probe [0, 1, 2, 3], "
            "kernel (1, 3): [0.5, 2], torch [1, 3]).  ONNX Runtime 1.32.0 runs the same graph "
            "as torch does.  Matched: the output must equal op_pool_common.py's AveragePool "
            "(onnx_average_pool; onnx 1.17.0: onnx_old_average_pool) within the comparison's "
            "bound; another wrong value fails.  Measured with onnx 1.23.2 and 1.17.0.  No "
            "upstream onnx issue found as of 2026-11 (searched: ReferenceEvaluator "
            "AveragePool ceil_mode extra_pad // 2 shifted windows; "
            "get_output_shape_explicit_padding pads_required; onnx/onnx#4958 reports only the "
            "window starting in the padding)"
        ),
        issue=None,
        enforced="matched",
        evidence="tests/adapters/test_onnx_bug_models.py::test_ceil_pool_bugs_match_their_models",
        signature=onnx_pool_signatures.POOL_BUGS[("onnx_reference", "extra-pad-before")],
    ),
    # onnx.reference's MaxPool at stride 1 and dilation 1 (onnx/reference/ops/op_max_pool.py
    # hands it to _op_common_pool.CommonPool; other strides go to its own _max_pool, and
    # AveragePool to op_pool_common, both right).  Matched where it returns an output (the
    # model: tests/divergence_signatures_onnx_pool.py common_pool_max); where it raises,
    # the adapter refuses quoting the error (onnx_reference-unit-stride-maxpool-fails).
    *(
        Divergence(
            key=f"onnx_reference-unit-stride-maxpool-{bug}",
            layer="maxpool2d",
            case="*",
            adapter="onnx_reference",
            direction="forward",
            reason=(
                "onnx.reference's MaxPool at stride 1 and dilation 1 runs "
                f"onnx/reference/ops/_op_common_pool.py's CommonPool, which {what}.  "
                "torch.onnx.export writes torch's padding as ONNX pads [h_begin, w_begin, "
                "h_end, w_end] and ceil_mode as given (opset 20); ONNX Runtime 1.32.0 runs "
                "the same graph with torch's shape.  Measured with onnx 1.23.2 (fuzz: "
                f"{example}).  No upstream onnx issue found as of 2026-11 (searched: "
                "reference MaxPool pads order; ReferenceEvaluator MaxPool strides 1 "
                "ceil_mode pads output shape); the pooling fix onnx/onnx#6650 changed "
                "op_pool_common.py, not this path.  Matched: the output must equal that "
                "path's (NaN padding on the sides it reads, its output length, the windows "
                "past its loop left 0) within the comparison's bound"
            ),
            issue=None,
            enforced="matched",
            evidence=(
                "tests/adapters/test_onnx_bug_models.py::"
                "test_unit_stride_maxpool_bugs_match_their_model"
            ),
            signature=onnx_pool_signatures.POOL_BUGS[("onnx_reference", bug)],
        )
        for bug, what, example in (
            (
                "pads-misread",
                "unpacks pads as 'pad_top, pad_bottom, pad_left, pad_right = pads' and pads "
                "the wrong sides (pads [0, 1, 0, 1] pads H by 1 and W by 1 at the end only)",
                "x (1,1,3,3), kernel 2, stride 1, padding (0, 1) gives a (3, 3) output where "
                "torch gives (2, 4)",
            ),
            (
                "ceil-pads-twice",
                "in ceil mode computes the output length from the padded length plus the "
                "padding again",
                "x (1,1,1,1), kernel 2, stride 1, padding 1, ceil_mode gives a (4, 4) "
                "output where torch and the reference give (2, 2)",
            ),
        )
    ),
    Divergence(
        key="onnx_reference-unit-stride-maxpool-fails",
        layer="maxpool2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's MaxPool at stride 1 and dilation 1 (_op_common_pool.py's "
            "CommonPool, which reads pads [h_begin, w_begin, h_end, w_end] as (top, bottom, "
            "left, right) and in ceil mode counts the padding twice) raises on some valid "
            "configurations: x (1,1,3,1), kernel 3, padding (0, 1) gives 'RuntimeError: "
            "output shape cannot be null or negative, out_shape=(2, 0)' where torch gives "
            "(1, 1); a window its misplaced padding fills wholly gives NumPy's 'zero-size "
            "array to reduction operation maximum which has no identity'.  The adapter "
            "refuses the call when the evaluator raises one of these on a unit-stride "
            "MaxPool it misreads, quoting it.  Measured with onnx 1.23.2 and 1.17.0.  No "
            "upstream onnx issue found as of 2026-11 (searched: reference MaxPool pads "
            "order; ReferenceEvaluator MaxPool strides 1 output shape cannot be null)"
        ),
        issue=None,
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_onnx_bug_models.py::"
            "test_unit_stride_maxpool_errors_are_refused_quoting_them"
        ),
    ),
    # Matched: the fuzz test meets these in any float64 case, so each is recognised by its
    # model (tests/divergence_signatures_onnx.py), not by a case id.
    Divergence(
        key="onnx_reference-erf-float64-via-float32",
        layer="gelu",
        case="*",
        adapter="onnx_reference",
        dtype="float64",
        direction="forward",
        reason=(
            "onnx.reference's Erf rounds its result to float32 in every dtype: "
            "onnx/reference/ops/op_erf.py builds np.vectorize(math.erf, otypes=['f']) and "
            "casts back to the input dtype, so a float64 Gelu (ONNX's function body: "
            "0.5 x (1 + Erf(x / sqrt 2))) is off by up to 5.6e-08 (gelu_none: "
            "-0.000141578 vs -0.000141522, max relative error 1.0 where 1 + erf "
            "cancels).  Matched: the output must equal 0.5 x (1 + float32(erf(x / "
            "sqrt 2))) within the float64 comparison's bound; another wrong value fails.  "
            "ONNX Runtime has no float64 Erf kernel and refuses the graph.  Measured with "
            "onnx 1.23.2.  No upstream onnx issue found as of 2026-11 (searched: reference "
            "Erf float32 otypes float64 precision)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_onnx_reference_erf_rounds_float64_to_float32"
        ),
        signature=onnx_signatures.ERF_VIA_FLOAT32,
    ),
    Divergence(
        key="onnx_reference-cubic-coefficients-float32",
        layer="resize2d",
        case="*",
        adapter="onnx_reference",
        dtype="float64",
        direction="forward",
        reason=(
            "onnx.reference hands FLOAT attributes to operators as np.float32 scalars "
            "(onnx/reference/op_run.py: 'AttributeProto.FLOAT: lambda att: "
            "np.float32(att.f)'), and under NumPy 2's promotion rules (NEP 50) its Resize's "
            "cubic coefficients, A * (ratio + 1) ... with A = cubic_coeff_a, are then "
            "computed in float32 even for float64 data: off by 3.0e-07 "
            "(resize_bicubic_align_corners: worst 0.57585959 vs 0.57585899; fuzz: one cell "
            "upsampled by 1.5 is the cell times 1.0000008, the float32 coefficients' sum).  "
            "Cases whose ratios are dyadic (scale 2) are exact.  Matched: the output must "
            "equal that Resize with float32 coefficients (float64 coordinates and sums) "
            "within the float64 comparison's bound; another wrong value fails.  ONNX Runtime "
            "has no float64 Resize kernel.  Measured with onnx 1.23.2, NumPy 2.  No upstream "
            "onnx issue found as of 2026-11 (searched: ReferenceEvaluator float attribute "
            "np.float32 float64 precision Resize cubic_coeff_a)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_onnx_reference_cubic_coefficients_are_float32"
        ),
        signature=onnx_signatures.CUBIC_COEFFICIENTS_FLOAT32,
    ),
    Divergence(
        key="onnx_reference-resize-align-corners-unfloored-length",
        layer="resize2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's Resize maps align_corners coordinates over the unfloored "
            "output length: op_resize.py _compute_x_ori takes y (n - 1) / (output_width - "
            "1) with output_width = scale * n, where the operator text's length_resized and "
            "torch's align_corners=True use the integer output length (the README's resize "
            "conventions).  torch.onnx.export writes scale_factor as Resize scales, so a "
            "scale with n * scale not an integer samples elsewhere: [0, 1, 2] by 0.75 gives "
            "[0, 1.6], torch and the reference [0, 2] (fuzz: (2, 3) by 0.75, linear).  "
            "Matched: the output must equal the evaluator's Resize with that length (and its "
            "float32 cubic coefficients) within the comparison's bound; another wrong value "
            "fails.  Measured with onnx 1.23.2; ONNX Runtime 1.32.0 runs the same graph as "
            "torch does.  No upstream onnx issue found as of 2026-11 (searched: reference "
            "Resize align_corners scales output_width not floored)"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_adapters.py::"
            "test_onnx_reference_align_corners_uses_the_unfloored_length"
        ),
        signature=onnx_signatures.ALIGN_CORNERS_UNFLOORED,
    ),
    # ConvTranspose (adapters/_onnx_conv_transpose.py): the runtimes raise on these; the
    # adapter refuses a call only when the runtime raises that bug's error on it.
    Divergence(
        key="onnx_reference-conv-transpose-grouped",
        layer="conv_transpose2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's ConvTranspose fails on group > 1 unless each group has one "
            "input and one output channel: it slices W by output channels (W is C x "
            "M/group x kH x kW) and writes each group's M/group channels into one "
            "('ValueError: could not "
            "broadcast input array from shape (2,7,6) into shape (1,7,6)', case ct_groups2; "
            "probe x (1,2,1,1), w (2,2,1,1), group 2: 'cannot reshape array of size 4 into "
            "shape (1,1,2)').  Measured with onnx 1.23.2; the reassembly is fixed by "
            "onnx/onnx#8446 (merged 2026-09)"
        ),
        issue="https://github.com/onnx/onnx/pull/8446",
        enforced="unsupported",
        evidence=(
            "tests/adapters/test_onnx_bug_models.py::"
            "test_conv_transpose_errors_are_refused_quoting_them"
        ),
    ),
    Divergence(
        key="onnx_reference-conv-transpose-grouped-whole-bias",
        layer="conv_transpose2d",
        case="*",
        adapter="onnx_reference",
        direction="forward",
        reason=(
            "onnx.reference's ConvTranspose runs a depthwise group (one input and one "
            "output channel, the configuration it does not fail on) as "
            "'self._run(group_X, group_W, B=B, ..., group=1)' with the whole bias, whose "
            "one output channel adds B[0] (onnx/reference/ops/op_conv_transpose.py): every "
            "channel gets b[0] (fuzz: x (1,2,1,1), w (2,1,1,1), b (2,), groups 2 gives "
            "channel 1 = x1 w1 + b0; probe [2, 3] by [1, 10] with bias [1, 2]: [3, 31], "
            "torch [3, 32]).  Matched: the output must equal the evaluator's arithmetic "
            "(evaluator_depthwise_conv_transpose, bit-exact on 294 random graphs with onnx "
            "1.23.2 and 1.17.0) within the comparison's bound; another wrong value fails.  "
            "Measured with onnx 1.23.2; ONNX Runtime 1.32.0 agrees with torch.  No "
            "upstream onnx issue found as of 2026-11 (searched: ReferenceEvaluator "
            "ConvTranspose group bias B[0] every group; reference ConvTranspose depthwise "
            "bias); onnx/onnx#8446 fixes the grouped reassembly's channel slice only and "
            "still passes B whole"
        ),
        issue=None,
        enforced="matched",
        evidence=(
            "tests/adapters/test_onnx_bug_models.py::"
            "test_depthwise_conv_transpose_bias_matches_the_evaluator_model"
        ),
        signature=onnx_signatures.GROUPED_WHOLE_BIAS,
    ),
    *(
        Divergence(
            key=f"{name}-conv-transpose-output-padding-past-stride",
            layer="conv_transpose2d",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                f"{runtime} fails on a ConvTranspose whose output_padding is not below the "
                "stride, which torch allows below the stride or the dilation and ONNX's "
                "attribute text allows 'less than the corresponding stride/dilation "
                "dimension' (onnx/onnx#3187 asks what '/' means): case ct_dilation2 "
                f"(stride 1, dilation 2, output_padding 1) raises {error}.  Measured with "
                f"{measured}"
            ),
            issue=issue,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_onnx_bug_models.py::"
                "test_conv_transpose_errors_are_refused_quoting_them"
            ),
        )
        for name, runtime, error, measured, issue in (
            (
                "onnxruntime",
                "ONNX Runtime",
                "'INVALID_ARGUMENT ... output_padding (1) may be too large for stride (1)'",
                "onnxruntime 1.32.0",
                "https://github.com/microsoft/onnxruntime/issues/14208",
            ),
            (
                "onnx_reference",
                "onnx.reference",
                "'ValueError: ... expected size of input's dimension 2 to match the "
                "calculated number of sliding blocks' in its col2im, which counts the "
                "blocks of the padded output",
                "onnx 1.23.2; no upstream onnx issue found as of 2026-11 (searched: "
                "reference ConvTranspose output_padding dilation col2im)",
                "https://github.com/onnx/onnx/issues/3187",
            ),
        )
    ),
    *(
        Divergence(
            key=f"{name}-ce-probabilities-invalid-model",
            layer="cross_entropy",
            case="*",
            adapter=name,
            direction="forward",
            reason=(
                "torch.onnx.export writes CrossEntropyLoss with class-probability targets "
                "as ONNX SoftmaxCrossEntropyLoss with the float targets as its labels, which "
                "the spec types int32/int64 (onnx/onnx#2667): onnx.checker rejects the model "
                "('labels typestr: Tind, has unsupported type: tensor(float)'), ONNX Runtime "
                "refuses to load it (INVALID_GRAPH) and onnx.reference fails inside the "
                "operator.  The adapter refuses exactly the models the checker rejects this "
                "way.  No upstream torch or onnxscript issue found as of 2026-11 (searched: "
                "onnx export cross_entropy probability targets SoftmaxCrossEntropyLoss)"
            ),
            issue=None,
            enforced="unsupported",
            evidence=(
                "tests/adapters/test_onnx_adapters.py::"
                "test_cross_entropy_probabilities_export_is_an_invalid_model"
            ),
        )
        for name in ("onnxruntime", "onnx_reference")
    ),
]
