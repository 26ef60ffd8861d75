"""Simulated open answers drawn from the theme codebook's themes with known rates.

Used by the simulator for the free-text suggestion question. Each substantive answer raises
each theme independently with probability ``THEME_RATES[theme]``; a raised theme contributes
one phrase from its pool, and an answer that raises none gets a phrase that raises none. Every
phrase codes exactly its own theme under ``themes/k_station.yaml`` (tested), so the rule
coding of a simulated wave can be checked against the known rates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NEUTRAL", "PHRASES", "THEME_RATES", "compose", "open_answer_truth"]

# P(theme | substantive answer): ordered as the theme codebook, shaped after the thesis's
# findings (online services, resourcing, queues and participation raised most often)
THEME_RATES: dict[str, float] = {
    "few_services": 0.10,
    "management_first": 0.08,
    "in_person_only": 0.18,
    "workload": 0.10,
    "weak_awareness": 0.06,
    "unclear_boundaries": 0.05,
    "left_out": 0.09,
    "more_resources": 0.20,
    "better_attitude": 0.16,
    "online_services": 0.30,
    "wider_services": 0.12,
    "participation": 0.15,
}

PHRASES: dict[str, tuple[str, ...]] = {
    "few_services": ("派出所的服务项目少", "除了办证别的都办不了", "服务内容单一", "便民服务太少"),
    "management_first": ("有的民警态度生硬", "感觉重管理轻服务", "窗口民警爱答不理", "门难进、脸难看的情况还有"),
    "in_person_only": ("排队时间太长", "材料不齐跑了好几趟", "很多业务必须本人到场", "等候时间长"),
    "workload": ("民警太少忙不过来", "看得出警力不足", "社区民警工作量太大", "民警的任务太重"),
    "weak_awareness": ("个别民警服务意识不强", "还有官本位思想", "民警缺乏服务意识"),
    "unclear_boundaries": ("很多非警务的事也找派出所", "部门之间推诿", "职责不清，来回踢皮球"),
    "left_out": ("反映了也没用", "提的意见没有回应", "不知道找谁反映问题", "不知道能办哪些业务"),
    "more_resources": ("增加警力", "延长窗口服务时间", "周末也能办理户籍业务", "多开几个窗口", "多配辅警"),
    "better_attitude": ("民警态度再热情一些", "解答问题更耐心", "多换位思考", "加强对民警的服务培训"),
    "online_services": ("增加网上可以办理的业务种类", "开通更多线上咨询渠道", "多设几台自助设备",
                        "真正做到最多跑一次", "推广浙里办掌上办"),
    "wider_services": ("对老年人提供上门服务", "增加便民服务项目", "材料一次性告知清楚", "提供代办服务"),
    "participation": ("多听取群众的意见", "多到社区走访", "定期开座谈会", "设立意见箱", "办完事后做好回访"),
}
NEUTRAL: tuple[str, ...] = ("派出所越办越好", "继续保持现在的做法", "辛苦了，谢谢你们", "加强夜间巡逻")
_PREFIX = ("希望", "建议", "", "期待")


def compose(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    """``n`` substantive answers and the themes each raises (``n x len(THEME_RATES)`` bool)."""
    names = list(THEME_RATES)
    p = np.array([THEME_RATES[t] for t in names])
    raised = rng.random((n, len(names))) < p
    picks = rng.integers(0, 1 << 30, size=(n, len(names)))
    pre = rng.integers(0, len(_PREFIX), size=n)
    neutral = rng.integers(0, len(NEUTRAL), size=n)
    texts = []
    for i in range(n):
        parts = [PHRASES[t][picks[i, j] % len(PHRASES[t])] for j, t in enumerate(names) if raised[i, j]]
        if not parts:
            parts = [NEUTRAL[neutral[i]]]
        texts.append(_PREFIX[pre[i]] + "，".join(parts) + "。")
    return texts, raised


def open_answer_truth(p_substantive: float, raised: np.ndarray, substantive: np.ndarray) -> dict[str, Any]:
    """The known rates (per respondent) and the realised counts, for the truth JSON."""
    names = list(THEME_RATES)
    return {
        "question": "suggestion",
        "theme_codebook": "k_station",
        "p_substantive": p_substantive,
        "theme_given_substantive": dict(THEME_RATES),
        "theme_rate": {t: p_substantive * THEME_RATES[t] for t in names},
        "realised_substantive": int(substantive.sum()),
        "realised_counts": {t: int(raised[substantive, j].sum()) for j, t in enumerate(names)},
        "note": "each substantive answer raises each theme independently; duplicates copy their "
                "original's answer; rates are per submitted row",
    }
