"""Messages of the policy-comparison page (``/twin``), merged into
:data:`serving.pages.i18n.MESSAGES` (key -> (zh, en))."""

from __future__ import annotations

TWIN_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.twin": ("策略比较", "Policy comparison"),
    "twin.title": ("策略比较（模拟县）", "Policy comparison (county twin)"),
    "twin.intro": (
        "这些数字来自模拟县（数字孪生），不是本县居民的数据。各策略在同样的模拟世界上运行，"
        "随机数相同，因此应看“配对差异”：区间不含零，差异才算清楚。",
        "These figures come from a simulated county (the twin), not from this county's "
        "residents. Every policy runs on the same simulated worlds with the same random numbers, "
        "so read the paired differences: a difference is clear when its interval excludes zero.",
    ),
    "twin.none": (
        "本工作区还没有策略比较。运行以下命令生成：",
        "No policy comparison has been made in this workspace yet. This command makes one:",
    ),
    "twin.unreadable": (
        "最新的策略比较报告无法读取（文件不完整或格式不符）。请重新运行：",
        "The latest comparison report cannot be read (incomplete or not a comparison). "
        "Run it again:",
    ),
    "twin.facts": ("比较条件", "What was compared"),
    "twin.households": ("模拟户数", "Simulated households"),
    "twin.months": ("循环月数", "Loop months"),
    "twin.seeds": ("模拟世界（种子）数", "Worlds (seeds)"),
    "twin.first_seed": ("起始种子", "First seed"),
    "twin.capacity": (
        "名单容量（每乡镇户数占比）",
        "List capacity (share of households per township)",
    ),
    "twin.exploration": ("探索比例", "Exploration share"),
    "twin.finished": ("完成时间（UTC）", "Finished (UTC)"),
    "twin.policies": (
        "各策略结果（各种子均值及 95% 区间）",
        "Per policy (mean over seeds, 95 % interval)",
    ),
    "twin.policy": ("策略", "Policy"),
    "twin.version": ("版本", "Version"),
    "twin.ci": ("95% 区间", "95 % interval"),
    "twin.col.unassisted_hardship_household_months": (
        "未获救助的困难户·月",
        "Unassisted hardship household-months",
    ),
    "twin.col.undiscovered_need_reached": ("走访到的未被发现困难户", "Undiscovered need reached"),
    "twin.col.undiscovered_need_reached_found_in_need": ("其中核实有困难", "of them found in need"),
    "twin.col.silent_reached": ("走访到的沉默困难户", "Silent reached"),
    "twin.col.undiscovered_need_recall_last3": ("最后三个月召回率", "Recall, last 3 months"),
    "twin.col.list_visits": ("名单走访次数", "List visits"),
    "twin.col.list_visits_finding_need_share": ("发现困难的走访占比", "Visits finding need"),
    "twin.col.newly_assisted_households": ("新获救助户数", "Newly assisted households"),
    "twin.col.helped_within_6m": ("6 个月内获救助（KM）", "Helped within 6 months (KM)"),
    "twin.paired": (
        "配对差异（各种子均值及 95% 区间）",
        "Paired differences (mean over seeds, 95 % interval)",
    ),
    "twin.pair": ("比较", "Comparison"),
    "twin.vs": ("{a} 对比 {b}", "{a} vs {b}"),
    "twin.col.unassisted_months_removed": ("减少的未获救助户·月", "Unassisted months removed"),
    "twin.col.undiscovered_need_reached_more": (
        "多走访到的未被发现困难户",
        "More undiscovered need reached",
    ),
    "twin.col.list_visits_per_extra_household_assisted": (
        "每多救助一户所需名单走访",
        "List visits per extra household assisted",
    ),
    "twin.clear": ("区间不含零", "Interval excludes zero"),
    "twin.unclear": ("区间含零", "Interval includes zero"),
    "twin.chart.unassisted.title": (
        "累计未获救助的困难户·月",
        "Cumulative unassisted hardship household-months",
    ),
    "twin.chart.unassisted.x": ("循环月", "Loop month"),
    "twin.chart.unassisted.y": ("户·月（累计）", "Household-months (cumulative)"),
    "twin.chart.unassisted.desc": (
        "各策略按循环月累计的未获救助困难户·月，各种子均值；越低越好。",
        "Each policy's unassisted hardship household-months, cumulative by loop month, mean "
        "over seeds; lower is better.",
    ),
    "twin.chart.helped.title": ("获得救助的时间", "Time to help"),
    "twin.chart.helped.x": ("困难开始后的月数", "Months since hardship began"),
    "twin.chart.helped.y": ("已获救助占比", "Share enrolled"),
    "twin.chart.helped.desc": (
        "起初沉默的困难户中已纳入低保或特困的占比（Kaplan-Meier，含删失），各种子均值；越高越好。",
        "Among households that started silent, the share enrolled in dibao or tekun "
        "(Kaplan-Meier, with censoring), mean over seeds; higher is better.",
    ),
    "twin.month_n": ("第 {n} 月", "Month {n}"),
    "twin.groups": (
        "按人群：未获救助的困难户·月（各种子均值）",
        "By group: unassisted hardship household-months (mean over seeds)",
    ),
    "twin.group": ("人群", "Group"),
    "twin.group.urban": ("城镇 = {value}", "Urban = {value}"),
    "twin.group.elderly_alone": ("独居老人 = {value}", "Elderly living alone = {value}"),
    "twin.group.severe_disability": ("重度残疾 = {value}", "Severe disability = {value}"),
    "twin.group.township_idx": ("乡镇序号 {value}", "Township no. {value}"),
    "twinpolicy.status-quo": ("现状（无名单）", "status quo (no lists)"),
    "twinpolicy.rules": ("预警规则名单", "early-warning rules"),
    "twinpolicy.model": ("模型名单", "model"),
    "twinpolicy.oracle": ("参照名单（真实数据）", "oracle (from the truth)"),
    "twinpolicy.learning": ("从走访中学习", "learning from visits"),
}
