"""Invalid-input parity: on a valid call with one thing broken, torch and the reference both
reject it or both accept it (and then agree on the output), and the reference's error names
the broken argument. Known torch quirks are held to what torch is known to do instead."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv2d_verify import capabilities, known_defects
from conv2d_verify.config import Conv2dConfig
from conv2d_verify.invalid_configs import (
    BOOL_AFTER_FIRST,
    CIRCULAR_TAKES_SIX_PAD_VALUES,
    KINDS,
    NO_OUTPUT_CHANNELS,
    ONE_PAD_VALUE,
    REFLECT_NO_CHANNELS,
    REFLECT_TAKES_NO_CHANNELS,
    STRING_PADDING_BIAS_DTYPE,
    THREE_PAD_VALUES,
    InvalidCall,
    call_reference,
    call_torch,
    invalid_calls,
    torch_quirk,
)
from conv2d_verify.records import count_event

TORCH_REJECTS = (ValueError, TypeError, RuntimeError)  # NotImplementedError is a RuntimeError
REFERENCE_REJECTS = (ValueError, TypeError)


@dataclass
class Outcome:
    side: str
    output: np.ndarray | None = None
    error: Exception | None = None

    def __str__(self) -> str:
        if self.error is None:
            return f"{self.side} accepted it (output shape {self.output.shape})"
        return f"{self.side} raised {type(self.error).__name__}: {self.error}"


def run(side: str, function, rejects) -> Outcome:
    try:
        return Outcome(side, output=function())
    except rejects as error:
        return Outcome(side, error=error)


def capability_gap(call: InvalidCall, torch_side: Outcome) -> capabilities.CapabilityGap | None:
    """The recorded capability gap that torch's error on the call comes from, if any."""
    return (
        None
        if torch_side.error is None
        else capabilities.gap_for(torch_side.error, call.changed("input_dtype", "float64"))
    )


def known_defect(call: InvalidCall, torch_side: Outcome) -> known_defects.KnownDefect | None:
    """The listed torch defect that torch's error on the call comes from, if any: the call's
    padding mode and batching put it in the defect's region, and the message is the defect's."""
    if torch_side.error is None:
        return None
    unbatched = len(call.changed("input_shape", call.valid.input_shape)) == 3
    config = dataclasses.replace(
        call.valid, padding_mode=call.layer_kwargs()["padding_mode"], batch=None if unbatched else call.valid.batch
    )
    dtype = str(call.changed("input_dtype", "float64"))
    candidates = [
        d for d in known_defects.KNOWN_DEFECTS if "nn.Conv2d" in d.apis and d.applies(config, dtype, call.arrays())
    ]
    return known_defects.raised_by(torch_side.error, candidates, known_defects.Ran("unknown"))


def check_parity(call: InvalidCall) -> Outcome:
    """Fails unless torch and the reference agree on the call; returns torch's outcome."""
    __tracebackhide__ = True
    torch_side = run("torch", lambda: call_torch(call), TORCH_REJECTS)
    reference_side = run("the reference", lambda: call_reference(call), REFERENCE_REJECTS)
    context = f"\nCase: {call!r}\ntorch {torch.__version__}"
    if reference_side.error is not None:
        missing = [name for name in call.names if name not in str(reference_side.error)]
        assert not missing, f"{reference_side}\nbut does not name {missing}{context}"
    quirk, rereading = torch_quirk(call) or (None, None)
    if quirk is not None:
        count_event(f"torch quirk: {quirk}")
    if rereading is not None:
        assert reference_side.error is not None, f"{reference_side}, though {quirk}{context}"
        as_torch_runs_it = dataclasses.replace(call, changes=call.changes + rereading)
        reference_side = run(
            f"the reference with {rereading} ({quirk})", lambda: call_reference(as_torch_runs_it), REFERENCE_REJECTS
        )
    if quirk in (NO_OUTPUT_CHANNELS, REFLECT_NO_CHANNELS) and reference_side.error is None:
        reference_side.output = reference_side.output[..., :0, :, :]
        reference_side.side += f", less its channels ({quirk})"
    gap = capability_gap(call, torch_side)
    if gap is not None and reference_side.error is None:
        count_event(f"capability gap: {gap.name}")
        return torch_side
    defect = known_defect(call, torch_side)
    if defect is not None and reference_side.error is None:
        count_event(f"known defect, raised as listed: {defect.name}")
        return torch_side
    if (torch_side.error is None) != (reference_side.error is None):
        pytest.fail(f"{torch_side}\nbut {reference_side}{context}")
    count_event(f"{call.kind}: both {'reject' if torch_side.error is not None else 'accept'}")
    if torch_side.error is None:
        assert torch_side.output.shape == reference_side.output.shape, f"{torch_side}\nbut {reference_side}{context}"
        np.testing.assert_array_equal(torch_side.output, reference_side.output, err_msg=context)  # integer data: exact
    return torch_side


@given(invalid_calls())
def test_torch_and_reference_agree_on_invalid_calls(call):
    check_parity(call)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=10)
@given(data=st.data())
def test_each_kind_is_reachable_from_a_valid_call(kind, data):
    call = data.draw(invalid_calls(kinds=(kind,)), label="call")
    assert call.kind == kind and call.changes
    unbroken = dataclasses.replace(call, changes=())
    assert torch_quirk(unbroken) is None
    start = check_parity(unbroken)
    # this torch cannot run the starting point (a capability gap, a listed defect): nothing to break
    assume(capability_gap(unbroken, start) is None and known_defect(unbroken, start) is None)
    assert start.error is None, f"the starting point is not valid: {unbroken!r}"
    check_parity(call)


BASE = Conv2dConfig(
    in_channels=2,
    out_channels=2,
    kernel_size=3,
    stride=1,
    padding=1,
    dilation=1,
    groups=1,
    bias=True,
    padding_mode="zeros",
    batch=1,
    height=5,
    width=6,
)
QUIRK_EXAMPLES = {
    "stride (1, True)": (BOOL_AFTER_FIRST, BASE, (("stride", (1, True)),), ("stride",)),
    "reflect padding (True, 1)": (
        BOOL_AFTER_FIRST,
        dataclasses.replace(BASE, padding_mode="reflect"),
        (("padding", (True, 1)),),
        ("padding",),
    ),
    "reflect padding [1], unbatched": (
        ONE_PAD_VALUE,
        dataclasses.replace(BASE, padding_mode="reflect", batch=None),
        (("padding", [1]),),
        ("padding",),
    ),
    "circular padding (0, 1, 2)": (
        THREE_PAD_VALUES if CIRCULAR_TAKES_SIX_PAD_VALUES else None,
        dataclasses.replace(BASE, padding_mode="circular"),
        (("padding", (0, 1, 2)),),
        ("padding",),
    ),
    "'same' with a float32 bias": (
        STRING_PADDING_BIAS_DTYPE,
        dataclasses.replace(BASE, padding="same"),
        (("bias_dtype", "float32"),),
        ("dtype", "bias"),
    ),
    "zero in_channels": (
        NO_OUTPUT_CHANNELS,
        BASE,
        (("in_channels", 0), ("input_shape", (1, 0, 5, 6)), ("weight_shape", (2, 0, 3, 3))),
        ("channels",),
    ),
    "reflect, unbatched, zero in_channels": (
        REFLECT_NO_CHANNELS if REFLECT_TAKES_NO_CHANNELS else NO_OUTPUT_CHANNELS,
        dataclasses.replace(BASE, padding_mode="reflect", batch=None),
        (("in_channels", 0), ("input_shape", (0, 5, 6)), ("weight_shape", (2, 0, 3, 3))),
        ("channels",),
    ),
}


@pytest.mark.parametrize("example", sorted(QUIRK_EXAMPLES))
def test_each_known_torch_quirk_still_holds(example):
    """One hand-made call per quirk, so that each is checked on every run."""
    quirk, valid, changes, names = QUIRK_EXAMPLES[example]
    call = InvalidCall(kind=example, changes=changes, names=names, seed=0, valid=valid)
    assert (torch_quirk(call) or (None,))[0] == quirk
    check_parity(call)


def test_a_disagreement_fails_saying_who_accepted_and_who_raised(monkeypatch):
    call = InvalidCall(kind="groups not positive", changes=(("groups", 0),), names=("groups",), seed=0, valid=BASE)
    monkeypatch.setattr(f"{__name__}.call_reference", lambda call: np.zeros((1, 2, 5, 6)))  # a lax reference
    with pytest.raises(pytest.fail.Exception) as failure:
        check_parity(call)
    message = str(failure.value)
    assert "torch raised ValueError: groups must be a positive integer" in message
    assert "but the reference accepted it (output shape (1, 2, 5, 6))" in message
    assert repr(call) in message and torch.__version__ in message
