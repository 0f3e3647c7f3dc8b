"""Realistic Chinese names for the simulated county.

Mechanisms that make names collide as they do in real registers: national surname frequencies
with a Zhejiang/Ninghai flavour, single-clan villages (单姓村), given names drawn from small
sex- and cohort-specific pools with Zipf-like concentration (naming fashions), and older people
registered with default birth dates (the 1st of a month, or 1 January).
"""

from __future__ import annotations

import numpy as np

# Approximate national population shares (%), most common first.
SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (s, float(p))
    for s, p in (
        ("王", 7.12), ("李", 7.09), ("张", 6.78), ("刘", 5.38), ("陈", 4.53), ("杨", 3.08),
        ("黄", 2.23), ("赵", 2.19), ("吴", 2.05), ("周", 1.89), ("徐", 1.45), ("孙", 1.38),
        ("马", 1.29), ("朱", 1.28), ("胡", 1.31), ("郭", 1.15), ("何", 1.06), ("林", 1.02),
        ("高", 1.00), ("罗", 0.95), ("郑", 0.93), ("梁", 0.86), ("谢", 0.76), ("宋", 0.67),
        ("唐", 0.66), ("许", 0.62), ("韩", 0.61), ("冯", 0.60), ("邓", 0.58), ("曹", 0.55),
        ("彭", 0.54), ("曾", 0.52), ("肖", 0.51), ("田", 0.49), ("董", 0.48), ("潘", 0.46),
        ("袁", 0.45), ("蔡", 0.44), ("蒋", 0.43), ("余", 0.42), ("于", 0.41), ("杜", 0.40),
        ("叶", 0.40), ("程", 0.38), ("魏", 0.37), ("苏", 0.36), ("吕", 0.35), ("丁", 0.35),
        ("任", 0.34), ("卢", 0.33), ("姚", 0.32), ("沈", 0.31), ("钟", 0.30), ("姜", 0.30),
        ("崔", 0.29), ("谭", 0.28), ("陆", 0.27), ("范", 0.26), ("汪", 0.25), ("廖", 0.25),
        ("石", 0.24), ("金", 0.24), ("韦", 0.23), ("贾", 0.23), ("夏", 0.22), ("付", 0.22),
        ("方", 0.21), ("邹", 0.20), ("熊", 0.20), ("白", 0.19), ("孟", 0.19), ("秦", 0.18),
        ("邱", 0.18), ("侯", 0.17), ("江", 0.17), ("尹", 0.16), ("薛", 0.16), ("闫", 0.15),
        ("段", 0.15), ("雷", 0.15), ("龙", 0.14), ("黎", 0.14), ("史", 0.13), ("陶", 0.13),
        ("贺", 0.13), ("毛", 0.12), ("郝", 0.12), ("顾", 0.12), ("龚", 0.11), ("邵", 0.11),
        ("万", 0.11), ("覃", 0.10), ("武", 0.10), ("钱", 0.10), ("戴", 0.10), ("严", 0.09),
        ("莫", 0.09), ("孔", 0.09), ("向", 0.08), ("常", 0.08), ("欧阳", 0.05), ("司马", 0.01),
    )
)
RARE_SURNAMES = tuple(
    "葛应邬童娄储柴屠竺仇俞裘鲍水麻岑包章褚施鲁娄喻柯骆单舒殷洪傅康卓郎奚项滕"
    "祝倪费尤阮虞翁左屈詹宁甘柏谷宫巫庞乔伍蓝管车温查易霍"
)
# Ninghai/Zhejiang surnames weighted up locally (multiplier on the national share).
LOCAL_WEIGHT = {"胡": 3.0, "王": 1.4, "陈": 1.6, "叶": 2.5, "周": 1.3, "李": 0.7, "张": 0.9,
                "刘": 0.5, "杨": 0.7, "童": 1.0, "应": 1.0, "邬": 1.0, "葛": 1.0, "储": 1.0}
_RARE_EXTRA = {"葛": 0.4, "应": 0.4, "邬": 0.3, "童": 0.3, "娄": 0.2, "储": 0.2}

# Given-name pools by decade of birth: (male, female), most fashionable first.
_POOLS: dict[int, tuple[str, str]] = {
    1920: ("富贵 德 福 根 金 宝 发 财 荣 桂 林 生 才 海 庆 祥 有 明 水 贤",
           "秀 英 兰 凤 珍 桂英 秀英 玉 翠 花 菊 梅 娥 香 芬 莲 彩 金花 月 妹"),
    1940: ("建国 国庆 德 福 明 林 金 华 生 海 荣 根 军 平 伟 文 庆 正 国华 胜利",
           "秀英 桂英 玉兰 秀兰 凤英 桂兰 英 兰 珍 花 芳 美 翠 霞 凤 淑 素 琴 秀珍 丽"),
    1960: ("伟 勇 军 强 斌 建华 国平 明 华 平 志 刚 杰 东 海 建国 卫东 红兵 文 林",
           "芳 丽 红 霞 敏 艳 萍 燕 华 娟 英 玲 静 慧 琴 红梅 丽华 小红 春梅 美"),
    1980: ("伟 磊 涛 杰 强 鹏 超 勇 斌 波 军 浩 明 辉 健 峰 刚 亮 俊 宇",
           "静 丽 敏 燕 婷 娜 芳 霞 艳 晶 琳 丹 雪 颖 倩 洁 玲 佳 慧 莉"),
    2000: ("浩 宇 杰 鑫 俊杰 浩然 子豪 文博 宇航 天宇 博 豪 晨 磊 睿 轩 子轩 浩宇 凯 杰",
           "婷 雪 欣怡 佳怡 梦瑶 思雨 雨涵 诗涵 佳 怡 静 悦 琪 欣 颖 蕾 璐 婧 妍 雯"),
    2010: ("子涵 梓涵 浩然 一诺 宇轩 沐宸 浩宇 子墨 梓睿 奕辰 皓轩 宇航 梓豪 俊熙 子轩"
           " 睿 辰 泽 宇 航",
           "一诺 梓涵 欣怡 子涵 可馨 诗涵 语桐 若汐 欣妍 梓萱 雨桐 思琪 依诺 佳怡 梦琪"
           " 悦 萱 琪 涵 彤"),
}
# second characters for composed two-character names
_SECOND = {"M": "明华平生林文军国强伟杰忠良成荣辉德兴峰", "F": "英华兰芳丽萍珍琴霞红燕娟玲梅云凤"}

_HOMOPHONES = {
    "华": "化", "明": "铭", "丽": "莉", "伟": "玮", "芳": "方", "静": "婧", "军": "君",
    "英": "瑛", "红": "宏", "平": "萍", "建": "健", "国": "帼", "涛": "韬", "林": "琳",
    "霞": "侠", "杰": "洁", "燕": "艳", "敏": "民", "斌": "彬", "峰": "锋", "勇": "永",
    "娟": "涓", "玲": "灵", "琴": "芹", "梅": "玫", "兰": "岚", "珍": "贞", "海": "河",
    "生": "升", "文": "雯", "雪": "薛", "婷": "亭", "宇": "羽", "浩": "昊", "鑫": "欣",
    "晨": "辰", "轩": "萱", "涵": "晗", "怡": "宜", "诺": "娜", "琪": "淇", "悦": "越",
    "佳": "家", "欣": "馨", "凤": "风", "秀": "绣", "桂": "贵", "金": "锦", "荣": "蓉",
    "德": "得", "福": "富", "根": "庚", "东": "冬", "辉": "晖", "亮": "良", "刚": "钢",
    "波": "博", "俊": "骏", "鹏": "朋", "超": "潮", "强": "蔷", "磊": "蕾", "颖": "莹",
}
_TRADITIONAL = {"华": "華", "国": "國", "丽": "麗", "军": "軍", "红": "紅", "伟": "偉",
                "刚": "剛", "东": "東", "兰": "蘭", "凤": "鳳", "龙": "龍", "云": "雲",
                "杰": "傑", "涛": "濤", "娟": "娟", "陈": "陳", "刘": "劉", "张": "張",
                "赵": "趙", "吴": "吳", "叶": "葉"}


def _decade(year: np.ndarray) -> np.ndarray:
    keys = np.array(sorted(_POOLS))
    return keys[np.clip(np.searchsorted(keys, year, side="right") - 1, 0, len(keys) - 1)]


def surname_table(local: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Surnames and their probabilities (local weighting for Ninghai by default)."""
    names = [s for s, _ in SURNAMES]
    weights = [p * (LOCAL_WEIGHT.get(s, 1.0) if local else 1.0) for s, p in SURNAMES]
    rest = max(100.0 - sum(p for _, p in SURNAMES), 0.0)
    rare = [s for s in RARE_SURNAMES if s not in names]
    for s in rare:
        names.append(s)
        weights.append(rest / len(rare) + (_RARE_EXTRA.get(s, 0.0) if local else 0.0))
    w = np.array(weights)
    return np.array(names, dtype=object), w / w.sum()


def draw_surnames(
    rng: np.random.Generator,
    n: int,
    clan_surname: np.ndarray | None = None,
    clan_share: float = 0.0,
) -> np.ndarray:
    """Surnames; with probability ``clan_share`` a person takes their village's clan surname."""
    names, p = surname_table()
    out = names[rng.choice(len(names), size=n, p=p)]
    if clan_surname is not None and clan_share > 0:
        clan = np.asarray(clan_surname, dtype=object)
        take = (rng.random(n) < clan_share) & np.array([c is not None for c in clan])
        out[take] = clan[take]
    return out


def _zipf(k: int, s: float = 1.1) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1) ** s
    return w / w.sum()


def draw_given_names(
    rng: np.random.Generator, is_male: np.ndarray, birth_year: np.ndarray
) -> np.ndarray:
    """Given names from sex- and cohort-specific pools (older cohorts: more single characters)."""
    is_male = np.asarray(is_male, bool)
    decade = _decade(np.asarray(birth_year))
    out = np.empty(len(is_male), dtype=object)
    for dec, (male_pool, female_pool) in _POOLS.items():
        for sex, pool_text in (("M", male_pool), ("F", female_pool)):
            sel = np.flatnonzero((decade == dec) & (is_male == (sex == "M")))
            if len(sel) == 0:
                continue
            pool = np.array(pool_text.split(), dtype=object)
            picks = pool[rng.choice(len(pool), size=len(sel), p=_zipf(len(pool)))]
            # single characters often get a second one (more often for younger cohorts)
            p_compose = 0.35 if dec < 1960 else 0.5 if dec < 2000 else 0.3
            single = np.array([len(x) == 1 for x in picks])
            compose = single & (rng.random(len(sel)) < p_compose)
            second = np.array(list(_SECOND[sex]), dtype=object)
            extra = second[rng.choice(len(second), size=len(sel), p=_zipf(len(second), 1.0))]
            picks = np.where(compose, picks + extra, picks)
            out[sel] = picks
    return out


def draw_names(
    rng: np.random.Generator,
    is_male: np.ndarray,
    birth_year: np.ndarray,
    clan_surname: np.ndarray | None = None,
    clan_share: float = 0.0,
) -> np.ndarray:
    """Full names: surname + given name."""
    n = len(is_male)
    return draw_surnames(rng, n, clan_surname, clan_share) + draw_given_names(
        rng, is_male, birth_year
    )


def registered_birth_dates(
    rng: np.random.Generator, true_dates: np.ndarray, birth_year: np.ndarray
) -> np.ndarray:
    """Birth dates as registered: many older people carry a default date (1st, or 1 January)."""
    dates = np.asarray(true_dates, "datetime64[D]").copy()
    year = np.asarray(birth_year)
    share = np.where(year < 1950, 0.20, np.where(year < 1960, 0.12, np.where(year < 1980, 0.03,
                                                                               0.0)))
    r = rng.random(len(dates))
    to_jan1 = r < share * 0.5
    to_first = (~to_jan1) & (r < share)
    dates[to_jan1] = dates[to_jan1].astype("datetime64[Y]").astype("datetime64[D]")
    dates[to_first] = dates[to_first].astype("datetime64[M]").astype("datetime64[D]")
    return dates


def name_variants(names: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A recording variant of each name that differs from it (homophone, traditional, spacing)."""
    out = np.empty(len(names), dtype=object)
    kinds = rng.integers(0, 4, len(names))
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        name = str(name)
        given_start = 2 if name[:2] in ("欧阳", "司马") else 1
        variant = None
        if kind <= 1:  # homophone in the given name
            spots = [j for j in range(given_start, len(name)) if name[j] in _HOMOPHONES]
            if spots:
                j = spots[int(rng.integers(len(spots)))]
                variant = name[:j] + _HOMOPHONES[name[j]] + name[j + 1 :]
        elif kind == 2:  # one character in traditional form
            spots = [j for j in range(len(name)) if name[j] in _TRADITIONAL
                     and _TRADITIONAL[name[j]] != name[j]]
            if spots:
                j = spots[int(rng.integers(len(spots)))]
                variant = name[:j] + _TRADITIONAL[name[j]] + name[j + 1 :]
        if variant is None:  # a stray (full-width) space after the surname
            sep = "\u3000" if kind == 3 else " "
            variant = name[:given_start] + sep + name[given_start:]
        out[i] = variant
    return out
