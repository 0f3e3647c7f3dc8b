"""Messages of the auditor's linkage pages (``/audit/linkage``, ``/audit/linkage/pair``),
merged into :data:`serving.pages.i18n.MESSAGES` (key -> (zh, en)).

``lk.comparison.<name>`` names each comparison of the match model and ``lk.level.<label>`` each
level label the model's comparisons use (``features.linkage.comparisons``); a label without a
message is shown as the model has it.
"""

from __future__ import annotations

LINKAGE_MESSAGES: dict[str, tuple[str, str]] = {
    "audit.linkage_link": (
        "记录匹配：任意两条记录的匹配权重",
        "Record linkage: any pair's match weights",
    ),
    "lk.title": ("记录匹配的权重分解", "Record linkage: match weights"),
    "lk.intro": (
        "输入两条记录的记录键（机构:记录号），或先打开一个家庭的关联记录再选两条。"
        "页面按最近一次匹配运行所用的模型（每个比较级别的 m、u 与先验）计算权重。",
        "Give two records' keys (agency:record id), or open a household's linked records and "
        "pick two. The weights are those of the model the last linkage run scored with (m and "
        "u of every comparison level, and its prior).",
    ),
    "lk.household_form": ("家庭的关联记录", "A household's linked records"),
    "lk.pair_form": ("两条记录", "Two records"),
    "lk.record_a": ("记录键 A", "Record key A"),
    "lk.record_b": ("记录键 B", "Record key B"),
    "lk.key_hint": ("形如 civil_registry:123", "e.g. civil_registry:123"),
    "lk.show": ("显示权重", "Show the weights"),
    "lk.records_title": ("家庭 {ref} 的关联记录", "Linked records of household {ref}"),
    "lk.records_table": ("关联记录", "Linked records"),
    "lk.person": ("人员", "Person"),
    "lk.person_n": ("第 {n} 人", "person {n}"),
    "lk.key": ("记录键", "Record key"),
    "lk.agency": ("机构", "Agency"),
    "lk.name": ("姓名（遮蔽）", "Name (masked)"),
    "lk.birth_year": ("出生年份", "Birth year"),
    "lk.sex": ("性别", "Sex"),
    "lk.village": ("村代码", "Village code"),
    "lk.method": ("关联方式", "Linked by"),
    "lk.link_p": ("关联概率", "Link probability"),
    "lk.method.id": ("身份证号", "ID number"),
    "lk.method.probabilistic": ("概率匹配", "probabilistic"),
    "lk.method.singleton": ("未匹配（单独一人）", "none (a person of its own)"),
    "lk.pick": ("选两条记录查看权重分解", "Pick two records to see their match weights"),
    "lk.pair_title": ("两条记录的匹配权重", "Match weights of two records"),
    "lk.pair_records": ("比较的两条记录", "The two records compared"),
    "lk.side": ("记录", "Record"),
    "lk.summary": (
        "匹配权重 {w}，匹配概率 {p}（阈值 {th}）。",
        "Match weight {w}, match probability {p} (threshold {th}).",
    ),
    "lk.note": (
        "匹配运行中，没有可用身份证号的记录与每个已知身份证号人员的档案比较；这里两条记录直接相互比较，"
        "所用模型相同。",
        "In the linkage run a record without a usable ID was compared with the profiles of "
        "persons known by ID; here the two records are compared with each other, on the same "
        "model.",
    ),
    "lk.steps_table": ("权重分解（与图相同的数字）", "The weights (the chart's numbers)"),
    "lk.comparison": ("比较", "Comparison"),
    "lk.level": ("级别", "Level"),
    "lk.m": ("m（匹配中的比例）", "m (share among matches)"),
    "lk.u": ("u（非匹配中的比例）", "u (share among non-matches)"),
    "lk.weight": ("部分匹配权重 log2(m/u)", "Partial match weight log2(m/u)"),
    "lk.total": ("累计", "Running total"),
    "lk.prior": ("先验 λ = {p}", "Prior λ = {p}"),
    "lk.final": ("最终匹配权重", "Final match weight"),
    "lk.probability": ("匹配概率", "Match probability"),
    "lk.tf": ("词频调整：{column}", "Term-frequency adjustment: {column}"),
    "lk.chart.title": ("匹配权重瀑布图", "Match weight waterfall"),
    "lk.chart.axis": ("匹配权重（log2 贝叶斯因子）", "Match weight (log2 Bayes factor)"),
    "lk.chart.desc": (
        "从先验权重 {prior} 起，每个比较加上其部分匹配权重，得到最终匹配权重 {w}（概率 {p}）。",
        "From the prior weight {prior}, each comparison adds its partial match weight, ending at "
        "the final match weight {w} (probability {p}).",
    ),
    "lk.chart.prior": ("先验", "Prior"),
    "lk.chart.other": ("其余", "Rest"),
    "lk.chart.final": ("最终（p = {p}）", "Final (p = {p})"),
    "lk.infinite": ("无穷", "infinite"),
    # one clear sentence per refusal (4xx)
    "lk.error.bad_key": (
        "记录键格式不对：应为“机构:记录号”，例如 civil_registry:123。",
        "A record key is malformed: it is agency:record id, for example civil_registry:123.",
    ),
    "lk.error.same_record": (
        "两把记录键指向同一条记录：请给两条不同的记录。",
        "Both keys name one record: give two different records.",
    ),
    "lk.error.unknown_record": (
        "数据仓库中没有这个记录键的记录。",
        "The warehouse holds no record with this key.",
    ),
    "lk.error.no_model": (
        "数据仓库中还没有匹配运行保存的模型：请先运行 outreach link。",
        "The warehouse holds no model of a linkage run yet: run outreach link first.",
    ),
    "lk.error.no_warehouse": ("本工作区还没有数据仓库。", "This workspace has no warehouse yet."),
    "lk.error.bad_household": ("家庭编号格式不对。", "The household reference is malformed."),
    "lk.error.unknown_household": (
        "数据仓库中没有这个家庭的关联记录。",
        "The warehouse holds no linked records for this household.",
    ),
    # the comparisons of the match model, and their level labels
    "lk.comparison.id": ("身份证号", "ID number"),
    "lk.comparison.name": ("姓名", "Name"),
    "lk.comparison.birth_date": ("出生日期", "Birth date"),
    "lk.comparison.sex": ("性别", "Sex"),
    "lk.comparison.address": ("地址（村）", "Address (village)"),
    "lk.comparison.entity_key": ("案件/证书号", "Case or certificate"),
    "lk.level.null": ("缺失，不计", "missing: not counted"),
    "lk.level.nothing to compare": ("无可比", "nothing to compare"),
    "lk.level.same ID (or corrected ID)": (
        "同一身份证号（或纠正后相同）",
        "same ID (or corrected ID)",
    ),
    "lk.level.different ID": ("身份证号不同", "different ID"),
    "lk.level.exact": ("完全相同", "exact"),
    "lk.level.same pinyin (homophones)": ("拼音相同（同音字）", "same pinyin (homophones)"),
    "lk.level.one character (a look-alike, a placeholder, a traditional form)": (
        "差一个字（形近字、占位符、繁体）",
        "one character (a look-alike, a placeholder, a traditional form)",
    ),
    "lk.level.close (two characters, or pinyin Jaro-Winkler >= 0.92)": (
        "相近（差两个字，或拼音 Jaro-Winkler ≥ 0.92）",
        "close (two characters, or pinyin Jaro-Winkler >= 0.92)",
    ),
    "lk.level.different": ("不同", "different"),
    "lk.level.day and month swapped": ("日与月颠倒", "day and month swapped"),
    "lk.level.same month (a day set to the 1st)": (
        "同月（日记为 1 日）",
        "same month (a day set to the 1st)",
    ),
    "lk.level.within 60 days (a lunar date)": (
        "相差 60 天内（农历日期）",
        "within 60 days (a lunar date)",
    ),
    "lk.level.same year": ("同年", "same year"),
    "lk.level.same": ("相同", "same"),
    "lk.level.same code": ("同一村代码", "same code"),
    "lk.level.same township": ("同一乡镇", "same township"),
    "lk.level.same case / certificate": ("同一案件/证书", "same case / certificate"),
}
