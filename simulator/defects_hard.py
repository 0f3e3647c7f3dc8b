"""The opt-in hard defect profile (``outreach simulate --defects hard``): the errors of real county
registers, on top of the default defects.

The default profile (``--defects default``) never calls this module, so its worlds are the same
to the byte. With ``hard``, every agency record is further changed, before exact duplicates are
made, at these target rates (each a share of the records that carry the field):

- ``name_confused``, 6 % of names: one character replaced by a homophone (同音字) or a
  look-alike (形近字); a given-name character when one has an alternative, else the surname.
- ``name_rare_placeholder``, 0.5 % of names: one given-name character replaced by a placeholder
  (``□``, ``*``, ``?``), as systems without a rare character (生僻字) do.
- ``birth_date_defect``, 12 % of birth dates, a third each: missing; day and month swapped (only
  where the day is 1..12 and not the month, else set to the 1st); set to the 1st (a date already
  on the 1st goes missing).
- ``birth_date_lunar``, 2 % of birth dates: 20..50 days later, a lunar date copied as solar.
- ``id_transposed``, 2.5 % of usable IDs: two adjacent, different digits of the first 17
  swapped. The check character then always fails (adjacent weights differ by 1..10 and 11 is
  prime), so the record loses its usable ID.
- ``sex_disagrees``, 1 % of sex codes: the other code.
- ``village_stale``, 12 % of (agency, person): the agency keeps the village the person lived in
  before a move (the origin village of a relocated household, else another village, of the same
  township 7 times in 10) on every record it holds of them. The civil registry too: a person
  whose hukou stayed behind after a move (人户分离) is registered in the old village.

Targets sit a little above the issue's floors (5 % names, 10 % birth dates, 2 % IDs, 10 % villages
of the records carrying one) so the *realised* rates, measured by the tests on generated data,
reach them. Every draw comes from the world's keyed streams (:mod:`simulator.streams`) under
purposes of its own (``hard_*``), so the default draws are untouched and a record is changed the
same way whatever else its month holds. Each record's truth row gets one flag per kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.idnumber import COMPOUND_SURNAMES
from simulator.names import HOMOPHONES
from simulator.streams import Streams

PROFILES = ("default", "hard")
"""The defect profiles of ``outreach simulate --defects``."""

RATES = {
    "name_confused": 0.06,
    "name_rare_placeholder": 0.005,
    "birth_date_defect": 0.12,
    "birth_date_lunar": 0.02,
    "id_transposed": 0.025,
    "sex_disagrees": 0.01,
    "village_stale": 0.12,
}
"""Target rates of the hard profile (see the module docstring)."""

FLAGS = tuple(RATES)
"""The truth columns the hard profile adds to ``truth/records``, in this order."""

_SIMILAR_SHAPE_GROUPS: tuple[str, ...] = (
    # look-alike characters (形近字) a clerk reading a handwritten form may take for one another
    "己已巳", "未末", "士土", "日曰", "王玉", "大太犬", "人入", "千干", "天夭", "壮状",
    "辨辩辫", "幕暮墓慕", "析折", "徽微", "斐裴", "晴睛", "治冶", "明朋", "春舂", "候侯",
    "崇祟", "贝见", "鸟乌", "戍戌戎", "拨拔", "雨两", "由甲申", "宇字", "杨扬", "亮壳",
    "伟伪", "玲怜", "珍诊", "颖颍", "峰蜂", "琦绮", "霞暇", "瑞端", "桂挂", "梅悔", "华毕",
    "林材", "志忐", "军车", "凤风", "红虹", "丽郦", "娟绢", "婷停", "萍苹", "清倩",
    "刚钢", "涛祷", "辉挥", "波坡", "鹏朋", "浩活",
    "龙尤", "成戍", "德徳", "福褔", "良艮", "祥样",
    "金全", "永水", "长仗", "正止", "安按", "立位", "兵乒", "卫工", "先光",
    "振震", "洪烘", "江汪", "山出", "松淞", "柏伯", "宏宠", "健键",
    "坚竖", "锋峰", "凯剀", "博搏", "鑫森", "晨晟", "阳阴", "洋详", "帆忛", "航舫",
    "睿叡", "泽译", "轩杆", "豪毫", "昊吴", "哲晢", "铭铬", "晖晕", "彬杉", "顺须",
    "贵责", "才寸", "清靖", "根恨", "远运", "晓烧",
    "恒桓", "锦绵", "嘉喜", "奇寄", "翔祥", "宁宇", "亦赤", "玉王",
    "秀透", "芳芬", "琴瑟", "梅每", "敏繁", "静睁", "艳绝", "慧彗", "莉俐", "雪雷",
    "琳淋", "洁诘", "晶品", "丹舟", "倩债", "娜哪", "蕾雷", "璐潞", "佳往", "怡恰", "欣昕",
    "琪棋", "悦锐", "萱宣", "涵函", "妍研", "菲非", "瑶摇", "雯雲", "薇微", "婧倩",
    "素索", "淑椒", "翠萃", "花化", "香杳", "莲连", "娥俄", "桂硅",
    "菊鞠", "荷何", "艺乙", "诗特", "思恩", "心必", "小少", "亚严", "秋锹",
    "巧朽", "彩采", "银很", "姣佼", "娇桥", "媛援", "婉碗", "馨磬", "雅鸦", "韵韶", "蓉溶",
    "楠南", "虹蚊", "蓓倍", "蕊芯", "芸云", "莎沙", "萌明", "菁精",
    "婕捷", "瑾谨", "瑜愉", "瑛映", "珊删", "珏钰", "翎令", "霏扉", "霖淋",
    "澜谰", "漪猗", "溪奚", "湘相", "滢莹", "颜彦", "容客", "蔓曼",
)  # fmt: skip

_SURNAME_GROUPS: tuple[str, ...] = (
    # surnames a clerk may type or read as another (homophones and look-alikes)
    "张章", "李里", "王汪", "陈程", "刘留", "杨扬", "黄皇", "赵照", "吴武", "周舟", "徐许",
    "孙荪", "胡湖", "郭国", "林琳", "罗萝", "梁良", "宋送", "唐汤", "韩寒", "冯逢", "曹漕",
    "曾增", "肖萧", "田甜", "袁元", "潘番", "于余俞虞", "蒋将", "蔡菜", "杜度", "叶页", "程成",
    "苏素", "吕侣", "丁订", "任仁", "沈审", "姚尧", "卢芦", "姜江", "钟忠", "陆路", "范饭",
    "金全", "石时", "贾假", "夏下", "方芳", "白百", "孟梦", "熊雄", "秦勤", "邱秋", "薛雪",
    "雷蕾", "侯候", "龙隆", "陶桃", "黎梨", "贺和", "毛茅", "邵绍", "钱前", "严言", "戴代",
    "莫漠", "孔空", "向项", "应英", "葛格", "邬乌", "童同", "储楮", "娄楼", "柴柒", "朱珠",
    "何河", "马玛", "郑正", "高膏", "谢榭", "许浒", "邓登", "彭膨", "董懂", "魏巍", "崔催",
    "谭谈", "廖寥", "韦伟", "付傅", "邹皱", "尹伊", "闫阎", "段锻", "万方", "史吏", "欧殴",
    "顾雇", "郝赫", "龚宫", "覃谭", "常尝", "汪注",
)  # fmt: skip

PLACEHOLDERS = ("□", "*", "?")
"""What a system without a rare character puts in its place."""


def _table(groups: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    for group in groups:
        for c in group:
            for x in group:
                if x != c and x not in table.setdefault(c, []):
                    table[c].append(x)
    return {c: tuple(xs) for c, xs in table.items()}


GIVEN_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    c: tuple(dict.fromkeys(HOMOPHONES.get(c, ()) + shape))
    for c, shape in {**dict.fromkeys(HOMOPHONES, ()), **_table(_SIMILAR_SHAPE_GROUPS)}.items()
}
"""Given-name character -> homophones (``simulator.names.HOMOPHONES``), then look-alikes."""
SURNAME_ALTERNATIVES: dict[str, tuple[str, ...]] = _table(_SURNAME_GROUPS)
"""Surname -> surnames a clerk may take it for."""


def _surname_length(name: str) -> int:
    return 2 if name[:2] in COMPOUND_SURNAMES else 1


def confuse_name(name: str, u_pos: float, u_alt: float) -> str | None:
    """``name`` with one character replaced by a homophone or a look-alike (``None``: no
    character of the name has one). A given-name character is preferred to the surname."""
    cut = _surname_length(name)
    spots = [j for j in range(cut, len(name)) if name[j] in GIVEN_ALTERNATIVES]
    table = GIVEN_ALTERNATIVES
    if not spots and cut == 1 and name[:1] in SURNAME_ALTERNATIVES:
        spots, table = [0], SURNAME_ALTERNATIVES
    if not spots:
        return None
    j = spots[int(u_pos * len(spots))]
    alts = table[name[j]]
    return name[:j] + alts[int(u_alt * len(alts))] + name[j + 1 :]


def rare_placeholder(name: str, u_pos: float, u_alt: float) -> str | None:
    """``name`` with one given-name character replaced by a placeholder (``None``: no given
    name)."""
    cut = _surname_length(name)
    if len(name) <= cut:
        return None
    j = cut + int(u_pos * (len(name) - cut))
    return name[:j] + PLACEHOLDERS[int(u_alt * len(PLACEHOLDERS))] + name[j + 1 :]


def transpose_ids(ids: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each 18-character ID with two adjacent, different digits of its first 17 swapped (the
    pair picked by ``u`` among those that differ); an ID whose 17 digits are all equal is kept.

    The result always fails the check character: swapping digits ``a != b`` at adjacent weights
    ``w1 != w2`` moves the weighted sum by ``(w1 - w2)(b - a)``, neither factor a multiple of 11.
    """
    out = np.asarray(ids, dtype="U18").copy()
    for i, (text, ui) in enumerate(zip(out, u, strict=True)):
        pairs = [j for j in range(16) if text[j] != text[j + 1]]
        if not pairs:
            continue
        j = pairs[int(ui * len(pairs))]
        out[i] = text[:j] + text[j + 1] + text[j] + text[j + 2 :]
    return out


@dataclass
class HardDefects:
    """The hard profile's changes to agency records (one instance per world).

    Attributes:
        streams: the world's keyed streams.
        village_codes: the code of every village (index = village number).
        household_village: the village number of every household.
        household_origin: the village a relocated household came from (-1: none).
    """

    streams: Streams
    village_codes: np.ndarray
    household_village: np.ndarray
    household_origin: np.ndarray

    def __post_init__(self) -> None:
        codes = np.asarray(self.village_codes).astype("U12")
        self.village_codes = codes
        township = np.array([c[:9] for c in codes])
        self._township_of = np.unique(township, return_inverse=True)[1]
        order = np.argsort(self._township_of, kind="stable")
        self._by_township = order
        counts = np.bincount(self._township_of)
        self._start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self._count = counts

    def previous_village(self, pid: np.ndarray, hid: np.ndarray) -> np.ndarray:
        """The village number each person lived in before their move (never the current one)."""
        current = self.household_village[hid]
        origin = self.household_origin[hid]
        d = self.streams.draws(None, "hard_previous_village", pid)
        near, pick_t, pick_any = d.random(), d.random(), d.random()
        t = self._township_of[current]
        size = self._count[t]
        within = self._by_township[self._start[t] + np.floor(pick_t * size).astype(np.int64)]
        anywhere = np.floor(pick_any * len(self.village_codes)).astype(np.int64)
        prev = np.where((near < 0.7) & (size > 1), within, anywhere)
        prev = np.where(origin >= 0, origin, prev)
        same = prev == current  # only when the county has one village, or by a wrap below
        prev = np.where(same, (current + 1) % len(self.village_codes), prev)
        return prev

    def apply(
        self, agency: str, m: int, pid: np.ndarray, hid: np.ndarray, key: np.ndarray, cols: dict
    ) -> dict[str, np.ndarray]:
        """Change the person fields of one delivery's records in place; returns the flags."""
        n = len(pid)
        S = self.streams
        flags = {f: np.zeros(n, bool) for f in FLAGS}
        if n == 0:
            return flags
        self._names(agency, m, key, cols, flags)
        if "birth_date" in cols:
            self._birth_dates(agency, m, key, cols, flags)
        ids = cols["id_number"]
        usable = ~cols["_id_missing"] & (np.char.str_len(ids) == 18)
        usable &= np.array([s[:17].isdigit() for s in ids], bool) if n else usable
        u = S.draws(m, f"hard_id_{agency}", key)
        hit = usable & (u.random() < RATES["id_transposed"])
        pick = u.random()
        if hit.any():
            ids[hit] = transpose_ids(ids[hit], pick[hit])
            flags["id_transposed"] = hit
        if "sex" in cols:
            flip = S.draws(m, f"hard_sex_{agency}", key).random() < RATES["sex_disagrees"]
            cols["sex"] = np.where(flip, np.where(cols["sex"] == "M", "F", "M"), cols["sex"])
            flags["sex_disagrees"] = flip
        village = cols.get("village_code")
        if village is not None:
            stale = (
                S.draws(None, f"hard_stale_village_{agency}", pid).random() < RATES["village_stale"]
            )
            if stale.any():
                prev = self.village_codes[self.previous_village(pid[stale], hid[stale])]
                village = np.asarray(village).astype("U12")
                village[stale] = prev
                cols["village_code"] = village
                flags["village_stale"] = stale
        return flags

    def _names(self, agency: str, m: int, key: np.ndarray, cols: dict, flags: dict) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        d = self.streams.draws(m, f"hard_name_{agency}", key)
        kind, u_pos, u_alt = d.random(), d.random(), d.random()
        confuse = kind < RATES["name_confused"]
        rare = (~confuse) & (kind < RATES["name_confused"] + RATES["name_rare_placeholder"])
        touched = np.flatnonzero(confuse | rare)
        if len(touched) == 0:
            return
        names = cols["name"]
        values = names.take(pa.array(touched)).to_pylist()
        out = []
        for i, name in zip(touched, values, strict=True):
            fn = confuse_name if confuse[i] else rare_placeholder
            new = fn(name, u_pos[i], u_alt[i]) if name else None
            out.append(new)
            if new is not None:
                flags["name_confused" if confuse[i] else "name_rare_placeholder"][i] = True
        changed = np.zeros(len(names), bool)
        changed[touched] = [v is not None for v in out]
        if changed.any():
            replacement = pa.array([v for v in out if v is not None], pa.string())
            cols["name"] = pc.replace_with_mask(names, pa.array(changed), replacement)

    def _birth_dates(self, agency: str, m: int, key: np.ndarray, cols: dict, flags: dict) -> None:
        dates = np.asarray(cols["birth_date"]).astype("datetime64[D]").copy()
        d = self.streams.draws(m, f"hard_birth_{agency}", key)
        u, how, lunar_days = d.random(), d.random(), d.integers(20, 51)
        known = ~np.isnat(dates)
        defect = known & (u < RATES["birth_date_defect"])
        lunar = known & ~defect & (u < RATES["birth_date_defect"] + RATES["birth_date_lunar"])
        month_start = dates.astype("datetime64[M]")
        day = (dates - month_start.astype("datetime64[D]")).astype(np.int64) + 1
        month = month_start.astype(np.int64) % 12 + 1
        year_start = dates.astype("datetime64[Y]").astype("datetime64[M]")
        swappable = (day <= 12) & (day != month)
        want_swap = defect & (how >= 1 / 3) & (how < 2 / 3)
        swap = want_swap & swappable
        first = defect & (how >= 2 / 3) | (want_swap & ~swappable)
        missing = defect & ((how < 1 / 3) | (first & (day == 1)))
        first &= ~missing
        out = dates.copy()
        out[swap] = (year_start[swap] + (day[swap] - 1)).astype("datetime64[D]") + (
            month[swap] - 1
        ).astype("timedelta64[D]")
        out[first] = month_start[first].astype("datetime64[D]")
        out[missing] = np.datetime64("NaT")
        out[lunar] = dates[lunar] + lunar_days[lunar].astype("timedelta64[D]")
        cols["birth_date"] = out
        flags["birth_date_defect"] = defect
        flags["birth_date_lunar"] = lunar


def _one_swap(recorded: str, registered: str) -> bool:
    """Whether ``recorded`` is ``registered`` with two adjacent, different characters swapped."""
    if len(recorded) != len(registered) or recorded == registered:
        return False
    diff = [j for j in range(len(recorded)) if recorded[j] != registered[j]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and recorded[diff[0]] == registered[diff[1]]
        and recorded[diff[1]] == registered[diff[0]]
    )


def _confused(recorded: str, registered: str) -> bool:
    """Whether ``recorded`` is ``registered`` with one character replaced by a homophone or a
    look-alike."""
    if len(recorded) != len(registered):
        return False
    diff = [j for j in range(len(recorded)) if recorded[j] != registered[j]]
    if len(diff) != 1:
        return False
    a, b = registered[diff[0]], recorded[diff[0]]
    return b in GIVEN_ALTERNATIVES.get(a, ()) or b in SURNAME_ALTERNATIVES.get(a, ())


def realised_rates(world: Path) -> dict:
    """The realised rates of the hard profile's error kinds in a simulated world, measured on its
    delivered records against the registered identity in its truth (not from the flags).

    Returns, per kind, ``{"records": denominator, "changed": numerator, "rate": share}``:

    - ``name_confused``: names one homophone or look-alike character away from the registered
      name (among records with a name; the default profile's own homophone variants count too);
    - ``birth_date``: birth dates missing, with day and month swapped, or set to the 1st while
      the registered day is not (among records of agencies that hold a birth date);
    - ``id_transposed``: ID numbers equal to the registered one with two adjacent digits swapped
      (among records with an ID number);
    - ``village_stale``: village codes other than the one of the record's household (among
      records with a village code).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    persons = pq.read_table(
        world / "truth" / "persons.parquet",
        columns=["person_id", "id_number", "name", "registered_birth_date"],
    ).to_pandas()
    persons = persons.set_index("person_id")
    homes = pq.read_table(
        world / "truth" / "households.parquet", columns=["household_id", "village_code"]
    ).to_pandas()
    home_village = homes.set_index("household_id")["village_code"]
    counts = {
        k: [0, 0]
        for k in (
            "name_confused",
            "birth_date",
            "id_transposed",
            "village_stale",
        )
    }
    for agency_dir in sorted((world / "agencies").iterdir()):
        agency = agency_dir.name
        for path in sorted(agency_dir.glob("*.parquet")):
            rec = pq.read_table(path).to_pandas()
            truth = pq.read_table(
                world / "truth" / "records" / agency / path.name,
                columns=["record_id", "person_id", "household_id"],
            ).to_pandas()
            rec = rec.drop_duplicates("record_id").merge(truth, on="record_id")
            if rec.empty:
                continue
            reg = persons.loc[rec["person_id"].to_numpy()]
            names = rec["name"].to_numpy(object)
            reg_names = reg["name"].to_numpy(object)
            has = pd.notna(names)
            counts["name_confused"][0] += int(has.sum())
            counts["name_confused"][1] += sum(
                _confused(a, b) for a, b in zip(names[has], reg_names[has], strict=True)
            )
            ids = rec["id_number"].to_numpy(object)
            has = pd.notna(ids)
            counts["id_transposed"][0] += int(has.sum())
            counts["id_transposed"][1] += sum(
                _one_swap(a, b)
                for a, b in zip(ids[has], reg["id_number"].to_numpy(object)[has], strict=True)
            )
            if "birth_date" in rec:
                got = pd.to_datetime(rec["birth_date"])
                want = pd.to_datetime(reg["registered_birth_date"].to_numpy())
                swapped = (
                    (got.dt.day.to_numpy() == want.month)
                    & (got.dt.month.to_numpy() == want.day)
                    & (got.dt.year.to_numpy() == want.year)
                    & (want.day != want.month)
                )
                first = (
                    (got.dt.day.to_numpy() == 1)
                    & (want.day != 1)
                    & (got.dt.month.to_numpy() == want.month)
                    & (got.dt.year.to_numpy() == want.year)
                )
                bad = got.isna().to_numpy() | swapped | first
                counts["birth_date"][0] += len(rec)
                counts["birth_date"][1] += int(bad.sum())
            if "village_code" in rec:
                stale = (
                    rec["village_code"].to_numpy()
                    != home_village.loc[rec["household_id"].to_numpy()].to_numpy()
                )
                counts["village_stale"][0] += len(rec)
                counts["village_stale"][1] += int(stale.sum())
    return {
        k: {"records": n, "changed": c, "rate": c / n if n else 0.0} for k, (n, c) in counts.items()
    }
