"""Guided lesson: the article's path through a CNN (input -> convolution -> activation ->
pooling -> fully connected -> training), one step per screen, each with one question answered
by using the step's control. Progress is kept for the session; the step is in the link."""

from __future__ import annotations

import streamlit as st

from cnnviz.lessons import guided
from ui.lang import t
from ui.lesson import steps
from ui.page import header

STEPS = list(guided.STEPS)


def go(step: str) -> None:
    st.session_state["lesson_step"] = step


def navigator() -> str:
    """The row of steps (any step one click away) and the progress bar; returns the step."""
    names = {s: t(f"lesson.step_{s}") for s in STEPS}
    st.session_state.setdefault("lesson_step", STEPS[0])  # Back/Next set it too
    step = st.segmented_control(t("lesson.steps"), STEPS, required=True,
                                key="lesson_step", bind="query-params", format_func=names.get,
                                width="stretch", help=t("lesson.steps_help")) or STEPS[0]
    done = len(st.session_state.get(steps.DONE, set()) & set(STEPS))
    st.progress(done / len(STEPS), text=t("lesson.progress", done=done, total=len(STEPS)))
    return step


def pager(step: str) -> None:
    """Back / Next under the step."""
    i = STEPS.index(step)
    back, _, nxt = st.columns([1, 4, 1])
    if i > 0:
        back.button(t("lesson.back"), key="lesson_back", on_click=go, args=(STEPS[i - 1],),
                    icon=":material/arrow_back:", width="stretch", help=t("lesson.back_help"))
    if i < len(STEPS) - 1:
        nxt.button(t("lesson.next"), key="lesson_next", on_click=go, args=(STEPS[i + 1],),
                   icon=":material/arrow_forward:", icon_position="right", type="primary",
                   width="stretch", help=t("lesson.next_help"))


def finished() -> None:
    """After the last step: how many questions were right, and what is still open."""
    done = st.session_state.get(steps.DONE, set())
    with st.container(border=True, key="lesson_summary"):
        st.subheader(t("lesson.done_title"))
        st.markdown(t("lesson.done_text", done=len(done & set(STEPS)), total=len(STEPS)))
        missing = [t(f"lesson.step_{s}") for s in STEPS if s not in done]
        if missing:
            st.caption(t("lesson.done_missing", steps=", ".join(missing)))


header("lesson")
current_step = navigator()
st.header(t(f"lesson.{steps.TITLES[current_step]}"))
steps.RENDER[current_step]()
st.divider()
pager(current_step)
if current_step == STEPS[-1] and "training" in st.session_state.get(steps.DONE, set()):
    finished()
