# ruff: noqa: RUF001 - labels are deliberately non-Latin (ja_JP, ru_RU): that is what they test
# ruff: noqa: S311 - `random` only makes deterministic demo data, never secrets
"""The demo Akeneo catalog: a small in-memory structure plus products and product models generated on the fly.

The structure (locales, channels, categories, attributes, families, reference entities, assets, ...) is a few
hundred small dicts, built once. Products and product models are never stored: each one is a pure function of
(seed, index), so a 1M-product catalog costs no memory and any page can be served in O(page size).

Products come in blocks of 20 slots with a fixed shape, so models and their variants line up by arithmetic:
  slots 0-7, 17-19  simple products (slot 19 of every fifth block has no identifier)
  slots 8-13        variants of a two-level model `model-BBBBBB-a` (sub-models `...-a-<color>`: 8-10 and 11-13)
  slots 14-16       variants of a one-level model `model-BBBBBB-b`
Sort keys follow the generation index: product uuids share a seed-derived prefix and end with the zero-padded
index, identifiers are `SKU-0000123`, model codes sort root, its sub-models, then the next root. That makes
`search_after` resumable in O(log n) by bisecting over keys computed from indexes.
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from demo_akeneo import media

_MASK = (1 << 64) - 1
BLOCK = 20
SIMPLE_SLOTS = (0, 1, 2, 3, 4, 5, 6, 7, 17, 18, 19)
# model position in a block -> first product slot of its variants (a model exists once that slot exists)
MODEL_FIRST_SLOT = (8, 8, 11, 14)
MODELS_PER_BLOCK = 4

CATALOG_START = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
CATALOG_NOW = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())  # the latest `updated` of the catalog
DAY = 86400

ENABLED_LOCALES = ("de_DE", "en_US", "fr_FR", "ja_JP", "ru_RU")
ALL_LOCALES = (
    "ar_AE",
    "de_DE",
    "en_US",
    "es_ES",
    "fr_FR",
    "it_IT",
    "ja_JP",
    "nl_NL",
    "pl_PL",
    "pt_BR",
    "ru_RU",
    "zh_CN",
)


def mix(*parts: int) -> int:
    """splitmix64 over several integers: a cheap, well-spread seed for one generated object."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = (h ^ (part & _MASK)) & _MASK
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
        h ^= h >> 31
    return h


def iso(ts: int) -> str:
    """Akeneo's ISO 8601 timestamps: `2021-03-04T05:06:07+00:00`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def labels(en: str, fr: str, de: str, ja: str, ru: str) -> dict[str, str]:
    return {"de_DE": de, "en_US": en, "fr_FR": fr, "ja_JP": ja, "ru_RU": ru}


# --------------------------------------------------------------------------------------------------- structure
CURRENCIES = [
    ("CNY", "Chinese Yuan", False),
    ("EUR", "Euro", True),
    ("GBP", "British Pound", True),
    ("JPY", "Japanese Yen", True),
    ("RUB", "Russian Ruble", False),
    ("USD", "US Dollar", True),
]
PRICE_CURRENCIES = ("EUR", "GBP", "JPY", "USD")

CHANNELS = [
    {
        "code": "ecommerce",
        "currencies": ["EUR", "USD"],
        "locales": ["de_DE", "en_US", "fr_FR"],
        "category_tree": "master",
        "conversion_units": {"weight": "KILOGRAM"},
        "labels": labels("Ecommerce", "E-commerce", "E-Commerce", "Eコマース", "Интернет-магазин"),
    },
    {
        "code": "mobile",
        "currencies": ["JPY", "USD"],
        "locales": ["en_US", "ja_JP"],
        "category_tree": "master",
        "conversion_units": {},
        "labels": labels("Mobile", "Mobile", "Mobil", "モバイル", "Мобильный"),
    },
    {
        "code": "print",
        "currencies": ["EUR", "GBP"],
        "locales": ["de_DE", "en_US", "ru_RU"],
        "category_tree": "print_catalog",
        "conversion_units": {"length": "MILLIMETER", "weight": "GRAM"},
        "labels": labels("Print", "Impression", "Druck", "印刷", "Печать"),
    },
]


def _unit(code: str, lab: dict[str, str], ops: list[tuple[str, str]], symbol: str) -> dict[str, Any]:
    return {
        "code": code,
        "labels": lab,
        "convert_from_standard": [{"operator": op, "value": value} for op, value in ops],
        "symbol": symbol,
    }


MEASUREMENT_FAMILIES = [
    {
        "code": "Weight",
        "labels": labels("Weight", "Poids", "Gewicht", "重量", "Вес"),
        "standard_unit_code": "KILOGRAM",
        "units": {
            "MILLIGRAM": _unit(
                "MILLIGRAM",
                labels("Milligram", "Milligramme", "Milligramm", "ミリグラム", "Миллиграмм"),
                [("mul", "0.000001")],
                "mg",
            ),
            "GRAM": _unit(
                "GRAM", labels("Gram", "Gramme", "Gramm", "グラム", "Грамм"), [("mul", "0.001")], "g"
            ),
            "KILOGRAM": _unit(
                "KILOGRAM",
                labels("Kilogram", "Kilogramme", "Kilogramm", "キログラム", "Килограмм"),
                [("mul", "1")],
                "kg",
            ),
            "OUNCE": _unit(
                "OUNCE", labels("Ounce", "Once", "Unze", "オンス", "Унция"), [("mul", "0.028349523125")], "oz"
            ),
            "POUND": _unit(
                "POUND", labels("Pound", "Livre", "Pfund", "ポンド", "Фунт"), [("mul", "0.45359237")], "lb"
            ),
        },
    },
    {
        "code": "Length",
        "labels": labels("Length", "Longueur", "Länge", "長さ", "Длина"),
        "standard_unit_code": "METER",
        "units": {
            "MILLIMETER": _unit(
                "MILLIMETER",
                labels("Millimeter", "Millimètre", "Millimeter", "ミリメートル", "Миллиметр"),
                [("mul", "0.001")],
                "mm",
            ),
            "CENTIMETER": _unit(
                "CENTIMETER",
                labels("Centimeter", "Centimètre", "Zentimeter", "センチメートル", "Сантиметр"),
                [("mul", "0.01")],
                "cm",
            ),
            "METER": _unit(
                "METER", labels("Meter", "Mètre", "Meter", "メートル", "Метр"), [("mul", "1")], "m"
            ),
            "INCH": _unit(
                "INCH", labels("Inch", "Pouce", "Zoll", "インチ", "Дюйм"), [("mul", "0.0254")], "in"
            ),
            "FOOT": _unit(
                "FOOT", labels("Foot", "Pied", "Fuß", "フィート", "Фут"), [("mul", "0.3048")], "ft"
            ),
        },
    },
    {
        "code": "Volume",
        "labels": labels("Volume", "Volume", "Volumen", "体積", "Объём"),
        "standard_unit_code": "CUBIC_METER",
        "units": {
            "MILLILITER": _unit(
                "MILLILITER",
                labels("Milliliter", "Millilitre", "Milliliter", "ミリリットル", "Миллилитр"),
                [("mul", "0.000001")],
                "ml",
            ),
            "LITER": _unit(
                "LITER", labels("Liter", "Litre", "Liter", "リットル", "Литр"), [("mul", "0.001")], "l"
            ),
            "CUBIC_METER": _unit(
                "CUBIC_METER",
                labels("Cubic meter", "Mètre cube", "Kubikmeter", "立方メートル", "Кубический метр"),
                [("mul", "1")],
                "m³",
            ),
        },
    },
    {
        "code": "Temperature",
        "labels": labels("Temperature", "Température", "Temperatur", "温度", "Температура"),
        "standard_unit_code": "KELVIN",
        "units": {
            "KELVIN": _unit(
                "KELVIN", labels("Kelvin", "Kelvin", "Kelvin", "ケルビン", "Кельвин"), [("mul", "1")], "K"
            ),
            "CELSIUS": _unit(
                "CELSIUS",
                labels("Celsius", "Celsius", "Celsius", "摂氏", "Цельсий"),
                [("add", "273.15")],
                "°C",
            ),
            "FAHRENHEIT": _unit(
                "FAHRENHEIT",
                labels("Fahrenheit", "Fahrenheit", "Fahrenheit", "華氏", "Фаренгейт"),
                [("sub", "32"), ("div", "1.8"), ("add", "273.15")],
                "°F",
            ),
        },
    },
    {
        "code": "Power",
        "labels": labels("Power", "Puissance", "Leistung", "電力", "Мощность"),
        "standard_unit_code": "WATT",
        "units": {
            "WATT": _unit("WATT", labels("Watt", "Watt", "Watt", "ワット", "Ватт"), [("mul", "1")], "W"),
            "KILOWATT": _unit(
                "KILOWATT",
                labels("Kilowatt", "Kilowatt", "Kilowatt", "キロワット", "Киловатт"),
                [("mul", "1000")],
                "kW",
            ),
        },
    },
]

# Category trees: (code, labels, children). `master` is 5 levels deep, `print_catalog` 4.
_L2 = {
    "clothing": (
        labels("Clothing", "Vêtements", "Kleidung", "衣類", "Одежда"),
        {
            "men": labels("Men", "Homme", "Herren", "メンズ", "Мужское"),
            "women": labels("Women", "Femme", "Damen", "レディース", "Женское"),
            "kids": labels("Kids", "Enfant", "Kinder", "キッズ", "Детское"),
        },
    ),
    "footwear": (
        labels("Footwear", "Chaussures", "Schuhe", "履物", "Обувь"),
        {
            "running": labels("Running", "Course", "Laufen", "ランニング", "Бег"),
            "casual": labels("Casual", "Décontracté", "Freizeit", "カジュアル", "Повседневная"),
            "formal": labels("Formal", "Habillé", "Elegant", "フォーマル", "Классическая"),
        },
    ),
    "electronics": (
        labels("Electronics", "Électronique", "Elektronik", "電子機器", "Электроника"),
        {
            "audio": labels("Audio", "Audio", "Audio", "オーディオ", "Аудио"),
            "computers": labels("Computers", "Ordinateurs", "Computer", "コンピューター", "Компьютеры"),
            "phones": labels("Phones", "Téléphones", "Telefone", "電話", "Телефоны"),
        },
    ),
    "home": (
        labels("Home", "Maison", "Wohnen", "ホーム", "Дом"),
        {
            "furniture": labels("Furniture", "Meubles", "Möbel", "家具", "Мебель"),
            "kitchen": labels("Kitchen", "Cuisine", "Küche", "キッチン", "Кухня"),
            "decor": labels("Decor", "Décoration", "Deko", "インテリア", "Декор"),
        },
    ),
    "food": (
        labels("Food", "Alimentation", "Lebensmittel", "食品", "Продукты"),
        {
            "snacks": labels("Snacks", "En-cas", "Snacks", "スナック", "Закуски"),
            "drinks": labels("Drinks", "Boissons", "Getränke", "飲み物", "Напитки"),
            "organic": labels("Organic", "Bio", "Bio", "オーガニック", "Органика"),
        },
    ),
}
_NEW = labels("New arrivals", "Nouveautés", "Neuheiten", "新着", "Новинки")
_SALE = labels("Sale", "Soldes", "Angebote", "セール", "Распродажа")
_OFF = {
    "20": labels("20% off", "-20 %", "20 % Rabatt", "20%オフ", "Скидка 20%"),
    "50": labels("50% off", "-50 %", "50 % Rabatt", "50%オフ", "Скидка 50%"),
}


def _join(a: dict[str, str], b: dict[str, str]) -> dict[str, str]:
    return {loc: f"{a[loc]} – {b[loc]}" for loc in a}


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    parent: str | None
    root: str
    level: int
    position: int
    labels: dict[str, str]
    updated: int


def _build_categories(seed: int) -> list[Category]:
    """Both trees in nested-set order (a parent always comes before its children), like Akeneo lists them."""
    rng = random.Random(mix(seed, 11))
    out: list[Category] = []

    def add(code: str, parent: str | None, root: str, level: int, position: int, lab: dict[str, str]) -> None:
        updated = CATALOG_START + rng.randrange(0, (CATALOG_NOW - CATALOG_START) // 2)
        out.append(Category(code, parent, root, level, position, lab, updated))

    add(
        "master",
        None,
        "master",
        1,
        1,
        labels(
            "Master catalog", "Catalogue principal", "Hauptkatalog", "マスターカタログ", "Основной каталог"
        ),
    )
    for p2, (l2code, (l2lab, subs)) in enumerate(_L2.items(), start=1):
        add(l2code, "master", "master", 2, p2, l2lab)
        for p3, (sub, sublab) in enumerate(subs.items(), start=1):
            c3 = f"{l2code}_{sub}"
            add(c3, l2code, "master", 3, p3, sublab)
            add(f"{c3}_new", c3, "master", 4, 1, _join(sublab, _NEW))
            add(f"{c3}_sale", c3, "master", 4, 2, _join(sublab, _SALE))
            for p5, (off, offlab) in enumerate(_OFF.items(), start=1):
                add(f"{c3}_sale_{off}", f"{c3}_sale", "master", 5, p5, _join(sublab, offlab))
    add(
        "print_catalog",
        None,
        "print_catalog",
        1,
        2,
        labels("Print catalog", "Catalogue papier", "Druckkatalog", "印刷カタログ", "Печатный каталог"),
    )
    for p2, year in enumerate(("2024", "2025"), start=1):
        c2 = f"print_{year}"
        add(
            c2,
            "print_catalog",
            "print_catalog",
            2,
            p2,
            labels(
                f"Catalog {year}",
                f"Catalogue {year}",
                f"Katalog {year}",
                f"{year}年カタログ",
                f"Каталог {year}",
            ),
        )
        for p3, (season, slab) in enumerate(
            (
                ("spring", labels("Spring", "Printemps", "Frühling", "春", "Весна")),
                ("autumn", labels("Autumn", "Automne", "Herbst", "秋", "Осень")),
            ),
            start=1,
        ):
            c3 = f"{c2}_{season}"
            add(c3, c2, "print_catalog", 3, p3, slab)
            for p4 in (1, 2):
                add(
                    f"{c3}_pages_{p4}",
                    c3,
                    "print_catalog",
                    4,
                    p4,
                    _join(
                        slab,
                        labels(
                            f"Pages {p4}", f"Pages {p4}", f"Seiten {p4}", f"ページ {p4}", f"Страницы {p4}"
                        ),
                    ),
                )
    return out


# Enriched categories (Akeneo 7+/SaaS category template): (code, type, value per channel, value per locale).
CATEGORY_TEMPLATE_ATTRIBUTES = (
    ("title", "text", True, True),
    ("description", "richtext", True, True),
    ("seo_meta_description", "textarea", False, True),
    ("banner", "image", False, False),
)
ENRICHED_CATEGORY_SHARE = 3  # one category in three carries values
_CATEGORY_BLURBS = (
    "Hand-picked for the season.",
    "Our best sellers, restocked every week.",
    "Everything you need, nothing you don't.",
    "Sustainably sourced and built to last.",
)


def _category_value(
    attribute: str, typ: str, attribute_uuid: str, data: Any, channel: str | None, locale: str | None
) -> tuple[str, dict[str, Any]]:
    """One enriched category value under Akeneo's key `code|uuid[|channel][|locale]`."""
    attribute_code = f"{attribute}|{attribute_uuid}"
    key = attribute_code + (f"|{channel}" if channel else "") + (f"|{locale}" if locale else "")
    return key, {
        "data": data,
        "type": typ,
        "channel": channel,
        "locale": locale,
        "attribute_code": attribute_code,
    }


ATTRIBUTE_GROUPS = [
    ("erp", 5, labels("ERP", "ERP", "ERP", "ERP", "ERP")),
    ("general", 1, labels("General", "Général", "Allgemein", "一般", "Общие")),
    ("marketing", 2, labels("Marketing", "Marketing", "Marketing", "マーケティング", "Маркетинг")),
    ("media", 4, labels("Media", "Médias", "Medien", "メディア", "Медиа")),
    ("other", 6, labels("Other", "Autre", "Andere", "その他", "Прочее")),
    ("technical", 3, labels("Technical", "Technique", "Technisch", "技術", "Технические")),
]

# code -> (type, group, labels, extra fields). Every Akeneo product attribute type appears at least once.
_ATTRS: list[tuple[str, str, str, dict[str, str], dict[str, Any]]] = [
    (
        "sku",
        "pim_catalog_identifier",
        "general",
        labels("SKU", "SKU", "SKU", "SKU", "Артикул"),
        {"unique": True, "useable_as_grid_filter": True, "max_characters": 255, "is_main_identifier": True},
    ),
    (
        "name",
        "pim_catalog_text",
        "general",
        labels("Name", "Nom", "Name", "名前", "Название"),
        {"localizable": True, "useable_as_grid_filter": True, "max_characters": 255},
    ),
    (
        "variation_name",
        "pim_catalog_text",
        "general",
        labels(
            "Variation name", "Nom de la variation", "Variantenname", "バリエーション名", "Название варианта"
        ),
        {"localizable": True},
    ),
    (
        "ean",
        "pim_catalog_text",
        "erp",
        labels("EAN", "EAN", "EAN", "EAN", "EAN"),
        {
            "unique": True,
            "validation_rule": "regexp",
            "validation_regexp": "^[0-9]{13}$",
            "max_characters": 13,
        },
    ),
    (
        "description",
        "pim_catalog_textarea",
        "marketing",
        labels("Description", "Description", "Beschreibung", "説明", "Описание"),
        {"localizable": True, "scopable": True, "wysiwyg_enabled": True},
    ),
    (
        "short_description",
        "pim_catalog_textarea",
        "marketing",
        labels("Short description", "Description courte", "Kurzbeschreibung", "短い説明", "Краткое описание"),
        {"localizable": True, "wysiwyg_enabled": False, "max_characters": 500},
    ),
    (
        "price",
        "pim_catalog_price_collection",
        "marketing",
        labels("Price", "Prix", "Preis", "価格", "Цена"),
        {
            "decimals_allowed": True,
            "negative_allowed": False,
            "number_min": "0.0000",
            "useable_as_grid_filter": True,
        },
    ),
    (
        "color",
        "pim_catalog_simpleselect",
        "marketing",
        labels("Color", "Couleur", "Farbe", "色", "Цвет"),
        {"useable_as_grid_filter": True},
    ),
    (
        "size",
        "pim_catalog_simpleselect",
        "marketing",
        labels("Size", "Taille", "Größe", "サイズ", "Размер"),
        {"useable_as_grid_filter": True},
    ),
    (
        "material",
        "pim_catalog_simpleselect",
        "technical",
        labels("Material", "Matière", "Material", "素材", "Материал"),
        {},
    ),
    (
        "collection",
        "pim_catalog_multiselect",
        "marketing",
        labels("Collection", "Collection", "Kollektion", "コレクション", "Коллекция"),
        {"useable_as_grid_filter": True},
    ),
    (
        "keywords",
        "pim_catalog_multiselect",
        "marketing",
        labels("Keywords", "Mots-clés", "Schlüsselwörter", "キーワード", "Ключевые слова"),
        {},
    ),
    (
        "main_image",
        "pim_catalog_image",
        "media",
        labels("Main image", "Image principale", "Hauptbild", "メイン画像", "Основное изображение"),
        {"allowed_extensions": ["gif", "jpeg", "jpg", "png"], "max_file_size": "10.00"},
    ),
    (
        "user_manual",
        "pim_catalog_file",
        "media",
        labels("User manual", "Notice", "Bedienungsanleitung", "取扱説明書", "Руководство"),
        {"allowed_extensions": ["pdf", "txt"], "max_file_size": "20.00"},
    ),
    (
        "weight",
        "pim_catalog_metric",
        "technical",
        labels("Weight", "Poids", "Gewicht", "重量", "Вес"),
        {
            "metric_family": "Weight",
            "default_metric_unit": "KILOGRAM",
            "decimals_allowed": True,
            "negative_allowed": False,
        },
    ),
    (
        "length",
        "pim_catalog_metric",
        "technical",
        labels("Length", "Longueur", "Länge", "長さ", "Длина"),
        {
            "metric_family": "Length",
            "default_metric_unit": "CENTIMETER",
            "decimals_allowed": False,
            "negative_allowed": False,
        },
    ),
    (
        "power",
        "pim_catalog_number",
        "technical",
        labels("Power (W)", "Puissance (W)", "Leistung (W)", "電力 (W)", "Мощность (Вт)"),
        {
            "decimals_allowed": True,
            "negative_allowed": False,
            "number_min": "0.0000",
            "number_max": "5000.0000",
        },
    ),
    (
        "stock_quantity",
        "pim_catalog_number",
        "erp",
        labels("Stock", "Stock", "Bestand", "在庫", "Остаток"),
        {"decimals_allowed": False, "negative_allowed": True, "useable_as_grid_filter": True},
    ),
    (
        "eco_friendly",
        "pim_catalog_boolean",
        "marketing",
        labels("Eco-friendly", "Écologique", "Umweltfreundlich", "エコ", "Экологичный"),
        {"useable_as_grid_filter": True},
    ),
    (
        "release_date",
        "pim_catalog_date",
        "marketing",
        labels("Release date", "Date de sortie", "Erscheinungsdatum", "発売日", "Дата выхода"),
        {"date_min": "2015-01-01T00:00:00+00:00", "date_max": "2030-12-31T00:00:00+00:00"},
    ),
    (
        "brand",
        "akeneo_reference_entity",
        "marketing",
        labels("Brand", "Marque", "Marke", "ブランド", "Бренд"),
        {"reference_data_name": "brands"},
    ),
    (
        "designers",
        "akeneo_reference_entity_collection",
        "marketing",
        labels("Designers", "Designers", "Designer", "デザイナー", "Дизайнеры"),
        {"reference_data_name": "designers"},
    ),
    (
        "pictures",
        "pim_catalog_asset_collection",
        "media",
        labels("Pictures", "Photos", "Bilder", "写真", "Фотографии"),
        {"reference_data_name": "packshots"},
    ),
    (
        "nutrition",
        "pim_catalog_table",
        "technical",
        labels("Nutrition facts", "Valeurs nutritionnelles", "Nährwerte", "栄養成分", "Пищевая ценность"),
        {},
    ),
]

COLORS = {
    "black": labels("Black", "Noir", "Schwarz", "黒", "Чёрный"),
    "blue": labels("Blue", "Bleu", "Blau", "青", "Синий"),
    "brown": labels("Brown", "Marron", "Braun", "茶色", "Коричневый"),
    "green": labels("Green", "Vert", "Grün", "緑", "Зелёный"),
    "grey": labels("Grey", "Gris", "Grau", "灰色", "Серый"),
    "navy": labels("Navy", "Marine", "Marineblau", "紺", "Тёмно-синий"),
    "pink": labels("Pink", "Rose", "Rosa", "ピンク", "Розовый"),
    "red": labels("Red", "Rouge", "Rot", "赤", "Красный"),
    "white": labels("White", "Blanc", "Weiß", "白", "Белый"),
    "yellow": labels("Yellow", "Jaune", "Gelb", "黄色", "Жёлтый"),
}
CLOTHING_SIZES = ("xs", "s", "m", "l", "xl", "xxl")
SHOE_SIZES = tuple(f"eu_{n}" for n in range(36, 47))
MATERIALS = {
    "cotton": labels("Cotton", "Coton", "Baumwolle", "綿", "Хлопок"),
    "glass": labels("Glass", "Verre", "Glas", "ガラス", "Стекло"),
    "leather": labels("Leather", "Cuir", "Leder", "革", "Кожа"),
    "linen": labels("Linen", "Lin", "Leinen", "麻", "Лён"),
    "metal": labels("Metal", "Métal", "Metall", "金属", "Металл"),
    "plastic": labels("Plastic", "Plastique", "Kunststoff", "プラスチック", "Пластик"),
    "polyester": labels("Polyester", "Polyester", "Polyester", "ポリエステル", "Полиэстер"),
    "wood": labels("Wood", "Bois", "Holz", "木", "Дерево"),
    "wool": labels("Wool", "Laine", "Wolle", "ウール", "Шерсть"),
}
COLLECTIONS = {
    "autumn_2024": labels("Autumn 2024", "Automne 2024", "Herbst 2024", "2024年秋", "Осень 2024"),
    "essentials": labels("Essentials", "Essentiels", "Basics", "定番", "Базовая"),
    "limited": labels("Limited edition", "Édition limitée", "Limitierte Auflage", "限定版", "Лимитированная"),
    "spring_2024": labels("Spring 2024", "Printemps 2024", "Frühling 2024", "2024年春", "Весна 2024"),
    "summer_2023": labels("Summer 2023", "Été 2023", "Sommer 2023", "2023年夏", "Лето 2023"),
    "summer_2024": labels("Summer 2024", "Été 2024", "Sommer 2024", "2024年夏", "Лето 2024"),
    "winter_2023": labels("Winter 2023", "Hiver 2023", "Winter 2023", "2023年冬", "Зима 2023"),
    "winter_2024": labels("Winter 2024", "Hiver 2024", "Winter 2024", "2024年冬", "Зима 2024"),
}
KEYWORD_COUNT = 150  # enough options for `/attributes/keywords/options` to need several pages
NUTRIENTS = {
    "carbohydrates": labels("Carbohydrates", "Glucides", "Kohlenhydrate", "炭水化物", "Углеводы"),
    "energy": labels("Energy", "Énergie", "Energie", "エネルギー", "Энергия"),
    "fat": labels("Fat", "Matières grasses", "Fett", "脂質", "Жиры"),
    "fiber": labels("Fiber", "Fibres", "Ballaststoffe", "食物繊維", "Клетчатка"),
    "protein": labels("Protein", "Protéines", "Eiweiß", "たんぱく質", "Белки"),
    "salt": labels("Salt", "Sel", "Salz", "食塩", "Соль"),
    "sugar": labels("Sugar", "Sucres", "Zucker", "糖類", "Сахар"),
}
TABLE_CONFIGURATION = [
    {
        "code": "nutrient",
        "data_type": "select",
        "validations": {},
        "labels": labels("Nutrient", "Nutriment", "Nährstoff", "栄養素", "Нутриент"),
        "is_required_for_completeness": True,
    },
    {
        "code": "per_100g",
        "data_type": "number",
        "validations": {"min": 0, "max": 1000, "decimals_allowed": True},
        "labels": labels("Per 100 g", "Pour 100 g", "Pro 100 g", "100gあたり", "На 100 г"),
        "is_required_for_completeness": True,
    },
    {
        "code": "comment",
        "data_type": "text",
        "validations": {"max_length": 100},
        "labels": labels("Comment", "Commentaire", "Kommentar", "コメント", "Комментарий"),
        "is_required_for_completeness": False,
    },
    {
        "code": "organic",
        "data_type": "boolean",
        "validations": {},
        "labels": labels("Organic", "Bio", "Bio", "有機", "Органический"),
        "is_required_for_completeness": False,
    },
]

# family -> (labels, attributes, attribute_as_image, requirements per channel beyond the identifier)
FAMILIES: dict[str, tuple[dict[str, str], tuple[str, ...], str | None, dict[str, tuple[str, ...]]]] = {
    "accessories": (
        labels("Accessories", "Accessoires", "Accessoires", "アクセサリー", "Аксессуары"),
        ("sku", "name", "description", "price", "color", "main_image"),
        "main_image",
        {"ecommerce": ("name", "price"), "mobile": ("name",), "print": ("name",)},
    ),
    "clothing": (
        labels("Clothing", "Vêtements", "Kleidung", "衣類", "Одежда"),
        (
            "sku",
            "name",
            "variation_name",
            "description",
            "short_description",
            "price",
            "color",
            "size",
            "material",
            "collection",
            "keywords",
            "main_image",
            "weight",
            "stock_quantity",
            "eco_friendly",
            "release_date",
            "brand",
            "designers",
            "pictures",
        ),
        "main_image",
        {
            "ecommerce": ("name", "description", "price", "color", "size"),
            "mobile": ("name", "price"),
            "print": ("name", "description"),
        },
    ),
    "electronics": (
        labels("Electronics", "Électronique", "Elektronik", "電子機器", "Электроника"),
        (
            "sku",
            "name",
            "ean",
            "description",
            "short_description",
            "price",
            "power",
            "length",
            "weight",
            "eco_friendly",
            "release_date",
            "user_manual",
            "main_image",
            "brand",
            "keywords",
            "stock_quantity",
        ),
        "main_image",
        {
            "ecommerce": ("name", "description", "price", "ean"),
            "mobile": ("name", "price"),
            "print": ("name", "user_manual"),
        },
    ),
    "food": (
        labels("Food", "Alimentation", "Lebensmittel", "食品", "Продукты"),
        (
            "sku",
            "name",
            "description",
            "price",
            "nutrition",
            "weight",
            "eco_friendly",
            "release_date",
            "brand",
            "keywords",
            "main_image",
        ),
        "main_image",
        {"ecommerce": ("name", "price", "nutrition"), "mobile": ("name",), "print": ("name", "nutrition")},
    ),
    "furniture": (
        labels("Furniture", "Meubles", "Möbel", "家具", "Мебель"),
        (
            "sku",
            "name",
            "description",
            "price",
            "material",
            "color",
            "length",
            "weight",
            "designers",
            "pictures",
            "main_image",
            "user_manual",
        ),
        "pictures",
        {"ecommerce": ("name", "price", "material"), "mobile": ("name",), "print": ("name", "description")},
    ),
    "shoes": (
        labels("Shoes", "Chaussures", "Schuhe", "靴", "Обувь"),
        (
            "sku",
            "name",
            "variation_name",
            "description",
            "price",
            "color",
            "size",
            "material",
            "main_image",
            "weight",
            "stock_quantity",
            "brand",
            "pictures",
            "release_date",
        ),
        None,
        {"ecommerce": ("name", "price", "size"), "mobile": ("name", "size"), "print": ("name",)},
    ),
}
EMPTY_FAMILY = "accessories"

# family -> variants: code -> (labels, [(axes, attributes)] per level)
FAMILY_VARIANTS: dict[
    str, dict[str, tuple[dict[str, str], list[tuple[tuple[str, ...], tuple[str, ...]]]]]
] = {
    "clothing": {
        "clothing_color_size": (
            labels(
                "Clothing by color and size",
                "Vêtements par couleur et taille",
                "Kleidung nach Farbe und Größe",
                "色とサイズ別の衣類",
                "Одежда по цвету и размеру",
            ),
            [
                (("color",), ("color", "variation_name", "main_image")),
                (("size",), ("size", "sku", "weight", "stock_quantity")),
            ],
        ),
        "clothing_size": (
            labels(
                "Clothing by size",
                "Vêtements par taille",
                "Kleidung nach Größe",
                "サイズ別の衣類",
                "Одежда по размеру",
            ),
            [(("size",), ("size", "sku", "weight", "stock_quantity"))],
        ),
    },
    "shoes": {
        "shoes_size": (
            labels(
                "Shoes by size",
                "Chaussures par pointure",
                "Schuhe nach Größe",
                "サイズ別の靴",
                "Обувь по размеру",
            ),
            [(("size",), ("size", "sku", "weight", "stock_quantity"))],
        ),
    },
}

ASSOCIATION_TYPES = [
    (
        "COMPATIBLE",
        labels("Compatible with", "Compatible avec", "Kompatibel mit", "互換性あり", "Совместимо с"),
        False,
        True,
    ),
    ("PACK", labels("Pack", "Lot", "Paket", "セット", "Комплект"), True, False),
    ("SUBSTITUTION", labels("Substitution", "Substitution", "Ersatz", "代替品", "Замена"), False, False),
    ("UPSELL", labels("Upsell", "Vente incitative", "Upselling", "アップセル", "Допродажа"), False, False),
    (
        "X_SELL",
        labels("Cross sell", "Vente croisée", "Cross-Selling", "クロスセル", "Перекрёстная продажа"),
        False,
        False,
    ),
]
PLAIN_ASSOCIATION_TYPES = tuple(code for code, _l, quantified, _t in ASSOCIATION_TYPES if not quantified)

NOUNS = {
    "accessories": labels("Accessory", "Accessoire", "Accessoire", "アクセサリー", "Аксессуар"),
    "clothing": labels("T-shirt", "T-shirt", "T-Shirt", "Tシャツ", "Футболка"),
    "electronics": labels("Headphones", "Casque audio", "Kopfhörer", "ヘッドホン", "Наушники"),
    "food": labels("Granola", "Granola", "Müsli", "グラノーラ", "Гранола"),
    "furniture": labels("Chair", "Chaise", "Stuhl", "椅子", "Стул"),
    "shoes": labels("Sneakers", "Baskets", "Turnschuhe", "スニーカー", "Кроссовки"),
    "": labels("Gift card", "Carte cadeau", "Geschenkkarte", "ギフトカード", "Подарочная карта"),
}
ADJECTIVES = [
    labels("Classic", "Classique", "Klassisch", "クラシック", "Классический"),
    labels("Premium", "Premium", "Premium", "プレミアム", "Премиум"),
    labels("Urban", "Urbain", "Urban", "アーバン", "Городской"),
    labels("Eco", "Éco", "Öko", "エコ", "Эко"),
    labels("Vintage", "Vintage", "Vintage", "ヴィンテージ", "Винтажный"),
]
# family -> level-2 category it lives under
FAMILY_CATEGORY = {
    "clothing": "clothing",
    "shoes": "footwear",
    "electronics": "electronics",
    "furniture": "home",
    "food": "food",
}
SIMPLE_FAMILIES = ("clothing", "electronics", "electronics", "food", "furniture", "furniture", "shoes")

# ------------------------------------------------------------------------- reference entities and asset families
REFERENCE_ENTITIES: dict[str, tuple[dict[str, str], int, bool]] = {
    # code -> (labels, record count, has image)
    "brands": (labels("Brands", "Marques", "Marken", "ブランド", "Бренды"), 120, True),
    "certifications": (
        labels("Certifications", "Certifications", "Zertifizierungen", "認証", "Сертификаты"),
        0,
        False,
    ),
    "designers": (labels("Designers", "Designers", "Designer", "デザイナー", "Дизайнеры"), 40, False),
}
COUNTRIES = {
    "france": labels("France", "France", "Frankreich", "フランス", "Франция"),
    "germany": labels("Germany", "Allemagne", "Deutschland", "ドイツ", "Германия"),
    "italy": labels("Italy", "Italie", "Italien", "イタリア", "Италия"),
    "japan": labels("Japan", "Japon", "Japan", "日本", "Япония"),
    "russia": labels("Russia", "Russie", "Russland", "ロシア", "Россия"),
    "usa": labels("USA", "États-Unis", "USA", "アメリカ", "США"),
}
STYLES = {
    "bauhaus": labels("Bauhaus", "Bauhaus", "Bauhaus", "バウハウス", "Баухаус"),
    "minimalist": labels("Minimalist", "Minimaliste", "Minimalistisch", "ミニマル", "Минимализм"),
    "nordic": labels("Nordic", "Nordique", "Nordisch", "北欧", "Скандинавский"),
    "retro": labels("Retro", "Rétro", "Retro", "レトロ", "Ретро"),
}
ASSET_FAMILIES: dict[str, tuple[dict[str, str], int, str | None]] = {
    # code -> (labels, asset count, attribute_as_main_media)
    "lookbooks": (labels("Lookbooks", "Lookbooks", "Lookbooks", "ルックブック", "Лукбуки"), 0, "media"),
    "packshots": (
        labels("Packshots", "Plans produit", "Produktfotos", "商品写真", "Фото товаров"),
        150,
        "media",
    ),
    "user_guides": (
        labels("User guides", "Guides", "Anleitungen", "ユーザーガイド", "Руководства"),
        20,
        "document",
    ),
    "videos": (labels("Videos", "Vidéos", "Videos", "動画", "Видео"), 12, "video"),
}
SHOT_ANGLES = {
    "back": labels("Back", "Dos", "Rückseite", "背面", "Сзади"),
    "front": labels("Front", "Face", "Vorderseite", "正面", "Спереди"),
    "side": labels("Side", "Profil", "Seite", "側面", "Сбоку"),
    "top": labels("Top", "Dessus", "Oben", "上面", "Сверху"),
}

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ren",
    "to",
    "sa",
    "vi",
    "no",
    "ber",
    "qua",
    "zen",
    "lu",
    "dor",
    "fi",
    "ga",
    "ho",
)


@dataclass(frozen=True, slots=True)
class ProductHeader:
    """The cheap part of a product (no values): everything search filters and `scope` look at."""

    index: int
    uuid: str
    identifier: str | None
    family: str | None
    enabled: bool
    categories: tuple[str, ...]
    groups: tuple[str, ...]
    parent: str | None
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class ModelHeader:
    index: int
    block: int
    position: int  # 0 root "a", 1-2 its sub-models, 3 root "b"
    code: str
    family: str
    family_variant: str
    parent: str | None
    categories: tuple[str, ...]
    color: str | None  # the level-1 axis value of a sub-model
    sizes: tuple[str, ...]  # axis values of the variant products below (sub-model "a-*" or root "b")
    created: int
    updated: int


class Catalog:
    """The whole demo catalog for (products, seed). Thread-safe: nothing mutates after __init__."""

    def __init__(self, products: int = 1000, seed: int = 42) -> None:
        if products < 0:
            raise ValueError("products must be >= 0")
        self.product_count = products
        self.seed = seed
        self._id_width = max(7, len(str(max(products - 1, 0))))
        self._block_width = max(6, len(str(max(products // BLOCK, 0))))
        prefix = f"{mix(seed, 0x5EED):016x}{mix(seed, 0xC0DE):016x}"
        variant = "89ab"[int(prefix[16], 16) % 4]
        self._uuid_prefix = f"{prefix[:8]}-{prefix[8:12]}-4{prefix[13:16]}-{variant}{prefix[17:20]}-"
        full_blocks, rest = divmod(products, BLOCK)
        self.model_count = MODELS_PER_BLOCK * full_blocks + sum(
            1 for first in MODEL_FIRST_SLOT if first < rest
        )
        # bounded per-instance caches: the variants of one model share its header and colours
        self.model_header = lru_cache(maxsize=8192)(self._model_header)
        self._block_colors = lru_cache(maxsize=8192)(self._colors_of_block)
        self._build_structure()

    # ------------------------------------------------------------------------------------------ structure
    def _build_structure(self) -> None:
        seed = self.seed
        self.locales = [{"code": code, "enabled": code in ENABLED_LOCALES} for code in ALL_LOCALES]
        self.currencies = [{"code": c, "enabled": e, "label": label} for c, label, e in CURRENCIES]
        self.channels = [dict(ch) for ch in CHANNELS]
        self.channel_by_code = {ch["code"]: ch for ch in self.channels}
        self.measurement_families = MEASUREMENT_FAMILIES

        cats = _build_categories(seed)
        self._category_objs = {c.code: c for c in cats}
        self.categories = [
            {"code": c.code, "parent": c.parent, "updated": iso(c.updated), "labels": c.labels} for c in cats
        ]
        self.category_positions = {c.code: c.position for c in cats}
        self.category_root = {c.code: c.root for c in cats}
        children: dict[str, list[str]] = {}
        for c in cats:
            if c.parent:
                children.setdefault(c.parent, []).append(c.code)
        self.category_children = children

        def descendants(code: str) -> set[str]:
            out = {code}
            for child in children.get(code, ()):
                out |= descendants(child)
            return out

        self.category_descendants = {c.code: frozenset(descendants(c.code)) for c in cats}
        self._build_category_values(cats)
        self._master_pool = {
            l2: [c.code for c in cats if c.root == "master" and c.level >= 3 and c.code.startswith(l2 + "_")]
            for l2 in _L2
        }
        self._print_pool = [c.code for c in cats if c.root == "print_catalog" and c.level >= 3]

        # attributes and options
        attributes = []
        self.attribute_types: dict[str, str] = {}
        self.attribute_flags: dict[str, tuple[bool, bool]] = {}
        group_attrs: dict[str, list[str]] = {code: [] for code, _o, _l in ATTRIBUTE_GROUPS}
        group_labels = {code: lab for code, _o, lab in ATTRIBUTE_GROUPS}
        for order, (code, typ, group, lab, extra) in enumerate(_ATTRS):
            group_attrs[group].append(code)
            attributes.append(self._attribute(code, typ, group, group_labels[group], lab, order, extra))
            self.attribute_types[code] = typ
            self.attribute_flags[code] = (bool(extra.get("localizable")), bool(extra.get("scopable")))
        self.attributes = sorted(attributes, key=lambda a: a["code"])
        self.attribute_by_code = {a["code"]: a for a in self.attributes}
        self.attribute_groups = [
            {"code": code, "sort_order": order, "attributes": group_attrs[code], "labels": lab}
            for code, order, lab in ATTRIBUTE_GROUPS
        ]
        keywords = {
            f"kw_{n:03d}": labels(
                f"Keyword {n}", f"Mot-clé {n}", f"Stichwort {n}", f"キーワード{n}", f"Ключевое слово {n}"
            )
            for n in range(1, KEYWORD_COUNT + 1)
        }
        sizes = {code: labels(*(code.upper(),) * 5) for code in CLOTHING_SIZES}
        sizes.update({code: labels(*(code[3:] + " EU",) * 5) for code in SHOE_SIZES})
        option_sets = {
            "color": COLORS,
            "size": sizes,
            "material": MATERIALS,
            "collection": COLLECTIONS,
            "keywords": keywords,
        }
        self.option_labels = option_sets
        self.attribute_options = {
            attr: [
                {"code": code, "attribute": attr, "sort_order": n, "labels": lab}
                for n, (code, lab) in enumerate(opts.items(), start=1)
            ]
            for attr, opts in option_sets.items()
        }
        self.table_select_options = {"nutrition": {"nutrient": NUTRIENTS}}

        # families and variants
        self.families = []
        for code, (lab, attrs, as_image, reqs) in sorted(FAMILIES.items()):
            self.families.append(
                {
                    "code": code,
                    "attributes": list(attrs),
                    "attribute_as_label": "name",
                    "attribute_as_image": as_image,
                    "attribute_requirements": {ch: ["sku", *r] for ch, r in sorted(reqs.items())},
                    "labels": lab,
                }
            )
        self.family_by_code = {f["code"]: f for f in self.families}
        self.family_variants: dict[str, list[dict[str, Any]]] = {}
        self._variant_levels: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for fam in self.families:
            variants = []
            for vcode, (vlab, levels) in sorted(FAMILY_VARIANTS.get(fam["code"], {}).items()):
                at_levels = {a for _axes, attrs in levels for a in attrs}
                variants.append(
                    {
                        "code": vcode,
                        "labels": vlab,
                        "common_attributes": [a for a in fam["attributes"] if a not in at_levels],
                        "variant_attribute_sets": [
                            {"level": n, "axes": list(axes), "attributes": list(attrs)}
                            for n, (axes, attrs) in enumerate(levels, start=1)
                        ],
                    }
                )
                self._variant_levels[vcode] = levels
            self.family_variants[fam["code"]] = variants

        self.association_types = [
            {"code": code, "labels": lab, "is_quantified": q, "is_two_way": t}
            for code, lab, q, t in ASSOCIATION_TYPES
        ]
        self._build_reference_entities()
        self._build_asset_families()

    def _build_category_values(self, cats: list[Category]) -> None:
        """`values` of enriched categories (`with_enriched_attributes=true`): a seed-chosen third carries text,
        richtext, textarea and (every other one) image values; the others have `values: null`, as Akeneo."""
        seed = self.seed
        rng = random.Random(mix(seed, 31))
        codes = [c.code for c in cats]
        enriched = set(rng.sample(codes, len(codes) // ENRICHED_CATEGORY_SHARE))
        uuids = {}
        for n, (code, _typ, _c, _l) in enumerate(CATEGORY_TEMPLATE_ATTRIBUTES):
            uuids[code] = str(uuid.UUID(int=(mix(seed, 32, n) << 64) | mix(seed, 33, n), version=4))
        self.category_template_attributes = [
            {"code": code, "uuid": uuids[code], "type": typ, "value_per_channel": c, "value_per_locale": lo}
            for code, typ, c, lo in CATEGORY_TEMPLATE_ATTRIBUTES
        ]
        channels_of_tree: dict[str, list[dict[str, Any]]] = {}
        for ch in self.channels:
            channels_of_tree.setdefault(ch["category_tree"], []).append(ch)
        self.category_values: dict[str, dict[str, dict[str, Any]] | None] = {c.code: None for c in cats}
        image_index = 0
        for ordinal, cat in enumerate(c for c in cats if c.code in enriched):
            values: dict[str, dict[str, Any]] = {}
            tree_channels = channels_of_tree.get(cat.root, [])
            for ch in tree_channels:
                for loc in ch["locales"]:
                    key, value = _category_value(
                        "title", "text", uuids["title"], cat.labels[loc], ch["code"], loc
                    )
                    values[key] = value
            if tree_channels:
                first = tree_channels[0]
                for loc in first["locales"][:2]:
                    blurb = rng.choice(_CATEGORY_BLURBS)
                    html = f"<p><strong>{cat.labels[loc]}</strong></p>\n<p>{blurb}</p>"
                    key, value = _category_value(
                        "description", "richtext", uuids["description"], html, first["code"], loc
                    )
                    values[key] = value
            for loc in ("en_US", "fr_FR"):
                text = f"{cat.labels[loc]}\n{rng.choice(_CATEGORY_BLURBS)}"
                key, value = _category_value(
                    "seo_meta_description", "textarea", uuids["seo_meta_description"], text, None, loc
                )
                values[key] = value
            if ordinal % 2 == 0:  # every other enriched category has a banner image
                found = media.media_file(seed, "category_image", image_index)
                data = {
                    "size": len(media.media_bytes(seed, "category_image", image_index)),
                    "extension": found.extension,
                    "file_path": found.code,
                    "mime_type": found.mime_type,
                    "original_filename": found.original_filename,
                }
                key, value = _category_value("banner", "image", uuids["banner"], data, None, None)
                values[key] = value
                image_index += 1
            self.category_values[cat.code] = values
        self.category_image_count = image_index

    @staticmethod
    def _attribute(
        code: str,
        typ: str,
        group: str,
        group_lab: dict[str, str],
        lab: dict[str, str],
        order: int,
        extra: dict,
    ) -> dict[str, Any]:
        """Akeneo's full attribute shape: every property present, null when it does not apply to the type."""
        attr: dict[str, Any] = {
            "code": code,
            "type": typ,
            "group": group,
            "unique": extra.get("unique", False),
            "useable_as_grid_filter": extra.get("useable_as_grid_filter", False),
            "allowed_extensions": extra.get("allowed_extensions", []),
            "metric_family": extra.get("metric_family"),
            "default_metric_unit": extra.get("default_metric_unit"),
            "reference_data_name": extra.get("reference_data_name"),
            "available_locales": [],
            "max_characters": extra.get("max_characters"),
            "validation_rule": extra.get("validation_rule"),
            "validation_regexp": extra.get("validation_regexp"),
            "wysiwyg_enabled": extra.get("wysiwyg_enabled"),
            "number_min": extra.get("number_min"),
            "number_max": extra.get("number_max"),
            "decimals_allowed": extra.get("decimals_allowed"),
            "negative_allowed": extra.get("negative_allowed"),
            "date_min": extra.get("date_min"),
            "date_max": extra.get("date_max"),
            "max_file_size": extra.get("max_file_size"),
            "minimum_input_length": None,
            "sort_order": order,
            "localizable": extra.get("localizable", False),
            "scopable": extra.get("scopable", False),
            "labels": lab,
            "guidelines": {},
            "auto_option_sorting": True if typ.endswith("select") else None,
            "default_value": False if typ == "pim_catalog_boolean" else None,
            "group_labels": group_lab,
        }
        if typ == "pim_catalog_identifier":
            attr["is_main_identifier"] = True
        if typ == "pim_catalog_table":
            attr["table_configuration"] = TABLE_CONFIGURATION
        return attr

    def _build_reference_entities(self) -> None:
        rng = random.Random(mix(self.seed, 21))
        self.reference_entities = []
        self.reference_entity_attributes: dict[str, list[dict[str, Any]]] = {}
        self.reference_entity_options: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.records: dict[str, list[dict[str, Any]]] = {}
        image_index = 0
        for n, (code, (lab, count, has_image)) in enumerate(sorted(REFERENCE_ENTITIES.items())):
            image = media.media_code(self.seed, "entity_image", n) if has_image else None
            self.reference_entities.append({"code": code, "labels": lab, "image": image})
            attrs = [
                _ref_attr(
                    "label",
                    "text",
                    labels("Label", "Libellé", "Bezeichnung", "ラベル", "Название"),
                    per_locale=True,
                    max_characters=None,
                    is_textarea=False,
                    is_rich_text_editor=False,
                    validation_rule="none",
                    validation_regexp=None,
                ),
                _ref_attr(
                    "image",
                    "image",
                    labels("Image", "Image", "Bild", "画像", "Изображение"),
                    allowed_extensions=["jpg", "png"],
                    max_file_size=None,
                ),
            ]
            options: dict[str, list[dict[str, Any]]] = {}
            if code == "brands":
                attrs += [
                    _ref_attr(
                        "description",
                        "text",
                        labels("Description", "Description", "Beschreibung", "説明", "Описание"),
                        per_locale=True,
                        max_characters=None,
                        is_textarea=True,
                        is_rich_text_editor=True,
                        validation_rule="none",
                        validation_regexp=None,
                    ),
                    _ref_attr("country", "single_option", labels("Country", "Pays", "Land", "国", "Страна")),
                    _ref_attr(
                        "founded",
                        "number",
                        labels("Founded", "Fondée en", "Gegründet", "設立", "Основан"),
                        decimals_allowed=False,
                        min_value="1800",
                        max_value="2100",
                    ),
                    _ref_attr(
                        "website",
                        "text",
                        labels("Website", "Site web", "Webseite", "ウェブサイト", "Сайт"),
                        max_characters=255,
                        is_textarea=False,
                        is_rich_text_editor=False,
                        validation_rule="url",
                        validation_regexp=None,
                    ),
                ]
                options["country"] = [{"code": c, "labels": lab} for c, lab in COUNTRIES.items()]
            elif code == "designers":
                attrs += [
                    _ref_attr(
                        "nationality",
                        "single_option",
                        labels("Nationality", "Nationalité", "Nationalität", "国籍", "Гражданство"),
                    ),
                    _ref_attr(
                        "styles", "multiple_options", labels("Styles", "Styles", "Stile", "スタイル", "Стили")
                    ),
                    _ref_attr(
                        "brand",
                        "reference_entity_single_link",
                        labels("Brand", "Marque", "Marke", "ブランド", "Бренд"),
                        reference_entity_code="brands",
                    ),
                ]
                options["nationality"] = [{"code": c, "labels": lab} for c, lab in COUNTRIES.items()]
                options["styles"] = [{"code": c, "labels": lab} for c, lab in STYLES.items()]
            self.reference_entity_attributes[code] = attrs
            self.reference_entity_options[code] = options

            names: set[str] = set()
            while len(names) < count:
                names.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
            records = []
            for name in sorted(names):
                created = CATALOG_START + rng.randrange(0, (CATALOG_NOW - CATALOG_START) // 2)
                updated = created + rng.randrange(0, 400 * DAY)
                title = name.capitalize()
                values: dict[str, list[dict[str, Any]]] = {
                    "label": [
                        {
                            "locale": loc,
                            "channel": None,
                            "data": title if loc != "ja_JP" else f"{title}（{name}）",
                        }
                        for loc in ("en_US", "fr_FR", "ja_JP")
                    ],
                    "image": [
                        {
                            "locale": None,
                            "channel": None,
                            "data": media.media_code(self.seed, "record_image", image_index),
                        }
                    ],
                }
                image_index += 1
                if code == "brands":
                    values["description"] = [
                        {"locale": "en_US", "channel": None, "data": f"<p>{title} makes things.</p>"},
                        {"locale": "ru_RU", "channel": None, "data": f"<p>{title} делает вещи.</p>"},
                    ]
                    values["country"] = [
                        {"locale": None, "channel": None, "data": rng.choice(list(COUNTRIES))}
                    ]
                    values["founded"] = [
                        {"locale": None, "channel": None, "data": str(rng.randint(1850, 2020))}
                    ]
                    values["website"] = [{"locale": None, "channel": None, "data": f"https://{name}.example"}]
                elif code == "designers":
                    values["nationality"] = [
                        {"locale": None, "channel": None, "data": rng.choice(list(COUNTRIES))}
                    ]
                    values["styles"] = [
                        {
                            "locale": None,
                            "channel": None,
                            "data": sorted(rng.sample(list(STYLES), rng.randint(1, 2))),
                        }
                    ]
                records.append(
                    {
                        "code": name,
                        "values": values,
                        "created": iso(created),
                        "updated": iso(min(updated, CATALOG_NOW)),
                    }
                )
            self.records[code] = records
        brand_codes = [r["code"] for r in self.records["brands"]]
        for record in self.records["designers"]:
            record["values"]["brand"] = [{"locale": None, "channel": None, "data": rng.choice(brand_codes)}]
        self.brand_codes = brand_codes
        self.designer_codes = [r["code"] for r in self.records["designers"]]

    def _build_asset_families(self) -> None:
        rng = random.Random(mix(self.seed, 31))
        self.asset_families = []
        self.asset_family_attributes: dict[str, list[dict[str, Any]]] = {}
        self.asset_family_options: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.assets: dict[str, list[dict[str, Any]]] = {}
        image_index = guide_index = 0
        for code, (lab, count, main) in sorted(ASSET_FAMILIES.items()):
            self.asset_families.append(
                {
                    "code": code,
                    "labels": lab,
                    "attribute_as_main_media": main,
                    "naming_convention": {},
                    "product_link_rules": [],
                    "transformations": [],
                }
            )
            label_attr = _asset_attr(
                "label",
                "text",
                labels("Label", "Libellé", "Bezeichnung", "ラベル", "Название"),
                per_locale=True,
                max_characters=None,
                is_textarea=False,
                is_rich_text_editor=False,
                validation_rule="none",
                validation_regexp=None,
            )
            options: dict[str, list[dict[str, Any]]] = {}
            if code == "videos":
                attrs = [
                    label_attr,
                    _asset_attr(
                        "video",
                        "media_link",
                        labels("Video", "Vidéo", "Video", "動画", "Видео"),
                        media_type="youtube",
                        prefix="https://www.youtube.com/watch?v=",
                        suffix=None,
                    ),
                ]
            elif code == "user_guides":
                attrs = [
                    label_attr,
                    _asset_attr(
                        "document",
                        "media_file",
                        labels("Document", "Document", "Dokument", "文書", "Документ"),
                        media_type="pdf",
                        allowed_extensions=["pdf"],
                        max_file_size=None,
                    ),
                    _asset_attr(
                        "language", "single_option", labels("Language", "Langue", "Sprache", "言語", "Язык")
                    ),
                ]
                options["language"] = [{"code": loc, "labels": {"en_US": loc}} for loc in ENABLED_LOCALES]
            else:
                attrs = [
                    label_attr,
                    _asset_attr(
                        "media",
                        "media_file",
                        labels("Media", "Média", "Medium", "メディア", "Медиа"),
                        media_type="image",
                        allowed_extensions=["jpg", "png"],
                        max_file_size="10",
                    ),
                    _asset_attr(
                        "alt_text",
                        "text",
                        labels(
                            "Alt text",
                            "Texte alternatif",
                            "Alternativtext",
                            "代替テキスト",
                            "Альтернативный текст",
                        ),
                        per_locale=True,
                        max_characters=200,
                        is_textarea=False,
                        is_rich_text_editor=False,
                        validation_rule="none",
                        validation_regexp=None,
                    ),
                    _asset_attr(
                        "shot_angle",
                        "single_option",
                        labels("Shot angle", "Angle", "Aufnahmewinkel", "撮影角度", "Ракурс"),
                    ),
                    _asset_attr(
                        "tags",
                        "multiple_options",
                        labels("Tags", "Étiquettes", "Schlagwörter", "タグ", "Теги"),
                    ),
                    _asset_attr(
                        "retouched",
                        "boolean",
                        labels("Retouched", "Retouché", "Retuschiert", "レタッチ済み", "Отретушировано"),
                    ),
                    _asset_attr(
                        "resolution",
                        "number",
                        labels(
                            "Resolution (dpi)",
                            "Résolution (dpi)",
                            "Auflösung (dpi)",
                            "解像度 (dpi)",
                            "Разрешение (dpi)",
                        ),
                        decimals_allowed=False,
                        min_value="72",
                        max_value="1200",
                        per_channel=True,
                    ),
                ]
                options["shot_angle"] = [{"code": c, "labels": lab} for c, lab in SHOT_ANGLES.items()]
                options["tags"] = [{"code": c, "labels": lab} for c, lab in list(COLLECTIONS.items())[:5]]
            self.asset_family_attributes[code] = attrs
            self.asset_family_options[code] = options
            assets = []
            for n in range(count):
                asset_code = f"{code[:-1]}_{n:05d}"
                created = CATALOG_START + rng.randrange(0, (CATALOG_NOW - CATALOG_START) // 2)
                updated = min(created + rng.randrange(0, 400 * DAY), CATALOG_NOW)
                values: dict[str, list[dict[str, Any]]] = {
                    "label": [{"locale": "en_US", "channel": None, "data": f"{lab['en_US']} {n}"}],
                }
                if code == "packshots":
                    values["media"] = [
                        {
                            "locale": None,
                            "channel": None,
                            "data": media.media_code(self.seed, "asset_image", image_index),
                        }
                    ]
                    image_index += 1
                    values["alt_text"] = [
                        {"locale": "en_US", "channel": None, "data": f"Packshot {n}"},
                        {"locale": "ja_JP", "channel": None, "data": f"商品写真 {n}"},
                    ]
                    values["shot_angle"] = [
                        {"locale": None, "channel": None, "data": rng.choice(list(SHOT_ANGLES))}
                    ]
                    values["tags"] = [
                        {
                            "locale": None,
                            "channel": None,
                            "data": sorted(rng.sample([o["code"] for o in options["tags"]], 2)),
                        }
                    ]
                    values["retouched"] = [{"locale": None, "channel": None, "data": rng.random() < 0.5}]
                    values["resolution"] = [
                        {"locale": None, "channel": ch, "data": str(dpi)}
                        for ch, dpi in (("ecommerce", 72), ("print", 300))
                    ]
                elif code == "user_guides":
                    values["document"] = [
                        {
                            "locale": None,
                            "channel": None,
                            "data": media.media_code(self.seed, "asset_guide", guide_index),
                        }
                    ]
                    guide_index += 1
                    values["language"] = [
                        {"locale": None, "channel": None, "data": rng.choice(ENABLED_LOCALES)}
                    ]
                elif code == "videos":
                    values["video"] = [
                        {"locale": None, "channel": None, "data": f"v{mix(self.seed, n) % 10**10:010d}"}
                    ]
                assets.append(
                    {"code": asset_code, "values": values, "created": iso(created), "updated": iso(updated)}
                )
            self.assets[code] = assets
        self.packshot_codes = [a["code"] for a in self.assets["packshots"]]

    # ------------------------------------------------------------------------------------------ keys
    def product_uuid(self, index: int) -> str:
        return f"{self._uuid_prefix}{index:012d}"

    def product_sort_identifier(self, index: int) -> str:
        """The identifier slot `index` would have: the sort key of `/products`, even for identifier-less slots."""
        return f"SKU-{index:0{self._id_width}d}"

    def has_identifier(self, index: int) -> bool:
        block, slot = divmod(index, BLOCK)
        return not (slot == BLOCK - 1 and block % 5 == self.seed % 5)

    def identifier_count_below(self, index: int) -> int:
        """How many of the slots [0, index) have an identifier: O(1), so `/products` page offsets need no scan."""
        index = max(0, min(index, self.product_count))
        full = index // BLOCK
        missing = (full + 4 - self.seed % 5) // 5 if full else 0
        return index - missing

    def product_index_of_uuid(self, uuid: str) -> int | None:
        if not uuid.startswith(self._uuid_prefix) or len(uuid) != 36:
            return None
        tail = uuid[len(self._uuid_prefix) :]
        if not tail.isdigit():
            return None
        index = int(tail)
        return index if index < self.product_count else None

    def product_index_of_identifier(self, identifier: str) -> int | None:
        if not identifier.startswith("SKU-") or not identifier[4:].isdigit():
            return None
        index = int(identifier[4:])
        if index >= self.product_count or self.product_sort_identifier(index) != identifier:
            return None
        return index if self.has_identifier(index) else None

    def model_code(self, index: int) -> str:
        block, position = divmod(index, MODELS_PER_BLOCK)
        base = f"model-{block:0{self._block_width}d}"
        if position == 0:
            return f"{base}-a"
        if position == 3:
            return f"{base}-b"
        colors = self._block_colors(block)
        return f"{base}-a-{colors[position - 1]}"

    def model_index_of_code(self, code: str) -> int | None:
        parts = code.split("-")
        if len(parts) not in (3, 4) or parts[0] != "model" or not parts[1].isdigit():
            return None
        block = int(parts[1])
        candidates = {"a": (0, 1, 2), "b": (3,)}.get(parts[2], ())
        for position in candidates:
            index = block * MODELS_PER_BLOCK + position
            if index < self.model_count and self.model_code(index) == code:
                return index
        return None

    # ------------------------------------------------------------------------------------------ headers
    def _colors_of_block(self, block: int) -> tuple[str, str]:
        rng = random.Random(mix(self.seed, 3, block))
        return tuple(sorted(rng.sample(list(COLORS), 2)))  # type: ignore[return-value]

    def _model_header(self, index: int) -> ModelHeader:
        block, position = divmod(index, MODELS_PER_BLOCK)
        rng = random.Random(mix(self.seed, 4, block))
        root_b_family = "shoes" if rng.random() < 0.5 else "clothing"
        cats_a = self._pick_categories(rng, "clothing", allow_none=False)
        cats_b = self._pick_categories(rng, root_b_family, allow_none=False)
        sizes_a = [tuple(sorted(rng.sample(CLOTHING_SIZES, 3), key=CLOTHING_SIZES.index)) for _ in range(2)]
        pool = SHOE_SIZES if root_b_family == "shoes" else CLOTHING_SIZES
        sizes_b = tuple(sorted(rng.sample(pool, 3), key=pool.index))
        own = random.Random(mix(self.seed, 5, index))
        created = CATALOG_START + own.randrange(0, CATALOG_NOW - CATALOG_START - 30 * DAY)
        updated = min(created + own.randrange(0, 500 * DAY), CATALOG_NOW)
        code = self.model_code(index)
        if position == 3:
            fv = "shoes_size" if root_b_family == "shoes" else "clothing_size"
            return ModelHeader(
                index, block, 3, code, root_b_family, fv, None, cats_b, None, sizes_b, created, updated
            )
        if position == 0:
            return ModelHeader(
                index,
                block,
                0,
                code,
                "clothing",
                "clothing_color_size",
                None,
                cats_a,
                None,
                (),
                created,
                updated,
            )
        color = self._block_colors(block)[position - 1]
        extra = (rng.choice(self._print_pool),) if position == 2 else ()
        parent = self.model_code(block * MODELS_PER_BLOCK)
        return ModelHeader(
            index, block, position, code, "clothing", "clothing_color_size", parent,
            tuple(sorted(set(cats_a) | set(extra))), color, sizes_a[position - 1], created, updated,
        )  # fmt: skip

    def _pick_categories(
        self, rng: random.Random, family: str | None, allow_none: bool = True
    ) -> tuple[str, ...]:
        roll = rng.random()
        if allow_none and roll < 0.08:
            return ()
        l2 = FAMILY_CATEGORY.get(family or "", rng.choice(list(_L2)))
        picked = set(rng.sample(self._master_pool[l2], rng.randint(1, 2)))
        if roll > 0.7:
            picked.add(rng.choice(self._print_pool))
        return tuple(sorted(picked))

    def product_header(self, index: int) -> ProductHeader:
        block, slot = divmod(index, BLOCK)
        rng = random.Random(mix(self.seed, 1, index))
        enabled = rng.random() < 0.9
        created = CATALOG_START + rng.randrange(0, CATALOG_NOW - CATALOG_START - 30 * DAY)
        updated = min(created + rng.randrange(0, 500 * DAY), CATALOG_NOW)
        groups = ("promo_2024",) if rng.random() < 0.05 else ()
        if slot in SIMPLE_SLOTS:
            family: str | None = None if rng.random() < 0.04 else rng.choice(SIMPLE_FAMILIES)
            categories = self._pick_categories(rng, family)
            parent = None
        else:
            model = self.model_header(self._model_of_slot(block, slot))
            family, categories, parent = model.family, model.categories, model.code
        identifier = self.product_sort_identifier(index) if self.has_identifier(index) else None
        return ProductHeader(
            index,
            self.product_uuid(index),
            identifier,
            family,
            enabled,
            categories,
            groups,
            parent,
            created,
            updated,
        )

    @staticmethod
    def _model_of_slot(block: int, slot: int) -> int:
        position = 1 if slot < 11 else 2 if slot < 14 else 3
        return block * MODELS_PER_BLOCK + position

    # ------------------------------------------------------------------------------------------ values
    def _value(self, attr: str, rng: random.Random, ctx: dict[str, Any]) -> list[dict[str, Any]]:
        """Akeneo standard-format values of one attribute ([{locale, scope, data}])."""
        typ = self.attribute_types[attr]

        def one(data: Any, locale: str | None = None, scope: str | None = None) -> dict[str, Any]:
            return {"locale": locale, "scope": scope, "data": data}

        if attr == "sku":
            return [one(ctx["identifier"])]
        if attr == "name":
            adj = ADJECTIVES[ctx["adjective"]]
            noun = NOUNS[ctx["family"] or ""]
            return [one(f"{adj[loc]} {noun[loc]} {ctx['number']}", loc) for loc in ENABLED_LOCALES]
        if attr == "variation_name":
            color = COLORS.get(ctx.get("color") or "")
            noun = NOUNS[ctx["family"] or ""]
            return [
                one(f"{noun[loc]} {color[loc] if color else ctx['number']}", loc)
                for loc in ("de_DE", "en_US", "fr_FR")
            ]
        if attr == "description":
            out = []
            for ch in self.channels:
                for loc in ch["locales"]:
                    text = f"{NOUNS[ctx['family'] or ''][loc]} {ctx['number']} — {ch['labels'][loc]}"
                    out.append(one(f"<p>{text}</p>", loc, ch["code"]))
            return out
        if attr == "short_description":
            locs = ["en_US"] + [loc for loc in ("fr_FR", "ja_JP") if rng.random() < 0.7]
            return [one(f"{NOUNS[ctx['family'] or ''][loc]} #{ctx['number']}", loc) for loc in sorted(locs)]
        if attr == "ean":
            return [one("".join(str(rng.randrange(10)) for _ in range(13)))]
        if typ == "pim_catalog_price_collection":
            base = rng.randint(5, 500) + rng.choice((0, 0.5, 0.99))
            rates = {"EUR": 1.0, "GBP": 0.85, "JPY": 160.0, "USD": 1.1}
            return [one([{"amount": f"{base * rates[c]:.2f}", "currency": c} for c in PRICE_CURRENCIES])]
        if attr == "color":
            return [one(ctx.get("color") or rng.choice(list(COLORS)))]
        if attr == "size":
            return [one(ctx["size"])]
        if attr == "material":
            return [one(rng.choice(list(MATERIALS)))]
        if attr == "collection":
            return [one(sorted(rng.sample(list(COLLECTIONS), rng.randint(1, 3))))]
        if attr == "keywords":
            return [
                one(sorted(f"kw_{n:03d}" for n in rng.sample(range(1, KEYWORD_COUNT + 1), rng.randint(1, 4))))
            ]
        if typ == "pim_catalog_image":
            return [one(media.media_code(self.seed, ctx["image_kind"], ctx["image_index"]))]
        if typ == "pim_catalog_file":
            return [one(media.media_code(self.seed, "product_manual", ctx["number"]))]
        if attr == "weight":
            return [one({"amount": f"{rng.uniform(0.05, 25):.4f}", "unit": rng.choice(("KILOGRAM", "GRAM"))})]
        if attr == "length":
            return [one({"amount": rng.randint(5, 250), "unit": "CENTIMETER"})]
        if attr == "power":
            return [one(f"{rng.uniform(1, 2500):.4f}")]
        if attr == "stock_quantity":
            return [one(rng.randint(-5, 500))]
        if typ == "pim_catalog_boolean":
            return [one(rng.random() < 0.5)]
        if typ == "pim_catalog_date":
            day = CATALOG_START + rng.randrange(0, 5 * 365) * DAY
            return [one(iso(day - day % DAY))]
        if attr == "brand":
            return [one(rng.choice(self.brand_codes))]
        if attr == "designers":
            return [one(rng.sample(self.designer_codes, rng.randint(1, 2)))]
        if attr == "pictures":
            return [one(rng.sample(self.packshot_codes, rng.randint(1, 3)))]
        if attr == "nutrition":
            rows = []
            for nutrient in rng.sample(list(NUTRIENTS), rng.randint(2, 4)):
                row: dict[str, Any] = {"nutrient": nutrient, "per_100g": round(rng.uniform(0, 60), 1)}
                if rng.random() < 0.5:
                    row["comment"] = "approx."
                row["organic"] = rng.random() < 0.5
                rows.append(row)
            return [one(rows)]
        raise KeyError(attr)  # pragma: no cover - every attribute of _ATTRS is handled above

    def _values(
        self, attrs: Sequence[str], rng: random.Random, ctx: dict[str, Any], fill: float
    ) -> dict[str, Any]:
        values = {}
        for attr in attrs:
            required = attr in ("sku", "name", "color", "size", "variation_name", "main_image")
            if rng.random() < fill or required:
                if attr == "sku" and not ctx.get("identifier"):
                    continue
                values[attr] = self._value(attr, rng, ctx)
        return values

    def _model_values(self, model: ModelHeader) -> dict[str, Any]:
        """Values the model holds itself plus what it inherits (as Akeneo returns them)."""
        levels = self._variant_levels[model.family_variant]
        family = self.family_by_code[model.family]
        at_levels = {a for _axes, attrs in levels for a in attrs}
        rng = random.Random(mix(self.seed, 6, model.index))
        ctx = {
            "family": model.family,
            "number": model.block,
            "adjective": model.block % len(ADJECTIVES),
            "image_kind": "model_image",
            "image_index": model.index,
            "color": model.color,
        }
        if model.parent is None:
            common = [a for a in family["attributes"] if a not in at_levels]
            if len(levels) == 1:
                return self._values(common, rng, ctx, 0.85)
            return self._values([a for a in common if a != "main_image"], rng, ctx, 0.85)
        parent = self.model_header(self.model_index_of_code(model.parent))  # type: ignore[arg-type]
        inherited = self._model_values(parent)
        own = self._values(levels[0][1], rng, ctx, 0.9)
        return {**inherited, **own}

    # ------------------------------------------------------------------------------------------ documents
    def product(self, index: int, *, by_uuid: bool = True) -> dict[str, Any]:
        """The product in Akeneo's standard format (`by_uuid`: `/products-uuid` shape, else `/products`)."""
        header = self.product_header(index)
        block, slot = divmod(index, BLOCK)
        rng = random.Random(mix(self.seed, 7, index))
        if header.parent is None:
            attrs = (
                self.family_by_code[header.family]["attributes"]
                if header.family
                else ("sku", "name", "price")
            )
            ctx = {
                "identifier": header.identifier,
                "family": header.family,
                "number": index,
                "adjective": index % len(ADJECTIVES),
                "image_kind": "product_image",
                "image_index": index,
            }
            if "size" in attrs:
                ctx["size"] = rng.choice(SHOE_SIZES if header.family == "shoes" else CLOTHING_SIZES)
            values = self._values(attrs, rng, ctx, 0.8)
        else:
            model = self.model_header(self._model_of_slot(block, slot))
            first = MODEL_FIRST_SLOT[model.position] if model.position else 8
            levels = self._variant_levels[model.family_variant]
            ctx = {
                "identifier": header.identifier,
                "family": model.family,
                "number": index,
                "size": model.sizes[slot - first],
            }
            values = {**self._model_values(model), **self._values(levels[-1][1], rng, ctx, 0.9)}
        values = dict(sorted(values.items()))

        doc: dict[str, Any] = {}
        if by_uuid:
            doc["uuid"] = header.uuid
        else:
            doc["identifier"] = header.identifier
            doc["uuid"] = header.uuid
        doc.update(
            {
                "enabled": header.enabled,
                "family": header.family,
                "categories": list(header.categories),
                "groups": list(header.groups),
                "parent": header.parent,
                "values": values,
                "created": iso(header.created),
                "updated": iso(header.updated),
            }
        )
        doc["associations"], doc["quantified_associations"] = self._product_associations(index, slot, by_uuid)
        return doc

    def _product_ref(self, index: int, by_uuid: bool) -> str:
        return self.product_uuid(index) if by_uuid else self.product_sort_identifier(index)

    def _linkable(self, index: int) -> bool:
        return 0 <= index < self.product_count and self.has_identifier(index)

    def _product_associations(self, index: int, slot: int, by_uuid: bool) -> tuple[dict, dict]:
        block = index // BLOCK
        assoc: dict[str, dict[str, list[str]]] = {
            code: {"groups": [], "product_models": [], "products": []} for code in PLAIN_ASSOCIATION_TYPES
        }
        quantified: dict[str, Any] = {}
        base = block * BLOCK
        if slot < 8:
            partner = base + (slot ^ 1)  # two-way: 0<->1, 2<->3, ... (symmetric by construction)
            if self._linkable(index) and self._linkable(partner):
                assoc["COMPATIBLE"]["products"].append(self._product_ref(partner, by_uuid))
            for other in (base + (slot + 2) % 8, base + (slot + 5) % 8):
                if other != index and self._linkable(other):
                    assoc["X_SELL"]["products"].append(self._product_ref(other, by_uuid))
            root_a = block * MODELS_PER_BLOCK
            if root_a < self.model_count and slot % 2 == 0:
                assoc["UPSELL"]["product_models"].append(self.model_code(root_a))
            if slot in (0, 4):
                items = [
                    {("uuid" if by_uuid else "identifier"): self._product_ref(o, by_uuid), "quantity": q}
                    for o, q in ((base + 17, 2), (base + 18, 1))
                    if self._linkable(o)
                ]
                models = []
                root_b = block * MODELS_PER_BLOCK + 3
                if root_b < self.model_count:
                    models.append({"identifier": self.model_code(root_b), "quantity": 1})
                if items or models:
                    quantified["PACK"] = {"products": items, "product_models": models}
        elif slot >= 8 and slot not in SIMPLE_SLOTS and self._linkable(base):
            assoc["SUBSTITUTION"]["products"].append(self._product_ref(base, by_uuid))
        return assoc, quantified

    def product_model(self, index: int) -> dict[str, Any]:
        model = self.model_header(index)
        values = dict(sorted(self._model_values(model).items()))
        assoc: dict[str, dict[str, list[str]]] = {
            code: {"groups": [], "product_models": [], "products": []} for code in PLAIN_ASSOCIATION_TYPES
        }
        first_simple = model.block * BLOCK
        if model.parent is None and self._linkable(first_simple):
            assoc["X_SELL"]["products"].append(self.product_sort_identifier(first_simple))
        return {
            "code": model.code,
            "family": model.family,
            "family_variant": model.family_variant,
            "parent": model.parent,
            "categories": list(model.categories),
            "values": values,
            "created": iso(model.created),
            "updated": iso(model.updated),
            "associations": assoc,
            "quantified_associations": {},
        }

    # ------------------------------------------------------------------------------------------ media files
    @property
    def media_count(self) -> int:
        """Product media listed by `/media-files`: one image and one manual per product slot, one image per model."""
        return 2 * self.product_count + self.model_count

    def media_at(self, position: int) -> media.MediaFile:
        if position < self.product_count:
            return media.media_file(self.seed, "product_image", position)
        position -= self.product_count
        if position < self.model_count:
            return media.media_file(self.seed, "model_image", position)
        return media.media_file(self.seed, "product_manual", position - self.model_count)

    def product_media(self, code: str) -> media.MediaFile | None:
        found = media.parse_media_code(self.seed, code)
        if found is None:
            return None
        limits = {
            "product_image": self.product_count,
            "product_manual": self.product_count,
            "model_image": self.model_count,
        }
        if found.kind not in limits or found.index >= limits[found.kind]:
            return None
        return found

    def asset_media(self, code: str) -> media.MediaFile | None:
        found = media.parse_media_code(self.seed, code)
        limits = {
            "asset_image": len(self.assets["packshots"]),
            "asset_guide": len(self.assets["user_guides"]),
        }
        if found is None or found.kind not in limits or found.index >= limits[found.kind]:
            return None
        return found

    def category_media(self, code: str) -> media.MediaFile | None:
        """An image of an enriched category value (`/category-media-files/{file_path}/download`)."""
        found = media.parse_media_code(self.seed, code)
        if found is None or found.kind != "category_image" or found.index >= self.category_image_count:
            return None
        return found

    def reference_entity_media(self, code: str) -> media.MediaFile | None:
        found = media.parse_media_code(self.seed, code)
        limits = {
            "record_image": sum(len(r) for r in self.records.values()),
            "entity_image": len(self.reference_entities),
        }
        if found is None or found.kind not in limits or found.index >= limits[found.kind]:
            return None
        return found


def first_after(key: str, size: int, key_of: Callable[[int], str]) -> int:
    """First position whose key sorts after `key` in a virtual sorted sequence (keys computed on demand)."""

    class _Keys:
        def __len__(self) -> int:
            return size

        def __getitem__(self, position: int) -> str:
            return key_of(position)

    return bisect_right(_Keys(), key)  # type: ignore[arg-type]


def _ref_attr(
    code: str, typ: str, lab: dict[str, str], per_locale: bool = False, **extra: Any
) -> dict[str, Any]:
    attr = {
        "code": code,
        "labels": lab,
        "type": typ,
        "value_per_locale": per_locale,
        "value_per_channel": False,
        "is_required_for_completeness": code == "label",
    }
    attr.update(extra)
    return attr


def _asset_attr(
    code: str,
    typ: str,
    lab: dict[str, str],
    per_locale: bool = False,
    per_channel: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    attr = {
        "code": code,
        "labels": lab,
        "type": typ,
        "value_per_locale": per_locale,
        "value_per_channel": per_channel,
        "is_required_for_completeness": typ in ("media_file", "media_link"),
        "is_read_only": False,
    }
    attr.update(extra)
    return attr
