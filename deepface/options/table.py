"""The machinery of the options tables: an :class:`Option` is one keyword of a verb (its name,
type, default, choices, check and help), a :class:`Table` the ordered keywords of one verb.

Tables compose (``EXTRACT.only(...) + MODEL``), check a call's keywords once
(:meth:`Table.checked`), and make the frozen dataclass a module passes around
(:meth:`Table.dataclass`). The command line, the REST API and Ray read the same tables
(``deepface.cli.arguments``, ``deepface.api.src.modules.core.fields``, ``deepface.ray``),
so an option is written once, here or in ``deepface.options.verbs``.

This layer imports nothing of deepface but ``deepface.commons``.
"""

import dataclasses
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Type, Union

#: The kinds of value an option holds; each surface (argparse, request fields) reads it.
KINDS = ("str", "bool", "int", "float", "list", "texts", "dict", "any")
_ANNOTATIONS: Dict[str, Any] = {
    "str": str,
    "bool": bool,
    "int": int,
    "float": float,
    "list": Tuple[str, ...],
    "texts": Union[str, List[str]],
    "dict": Dict[str, Any],
    "any": Any,
}
#: Checks a value and returns it, converted where needed (``None`` -> ``{}``...).
Check = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Option:
    """One keyword of a verb, written once.

    Attributes:
        name: the Python keyword (``detector_backend``); the flag is ``--detector-backend``.
        kind: one of :data:`KINDS`: how the command line and the API read a value.
        default: the default of the Python API (the facade's signature repeats it, checked by a test).
        help: one line, shown by ``--help`` and the docs.
        choices: the values allowed, when they are a fixed set (checked by ``check`` if given).
        at_least: the smallest whole number allowed (``kind`` ``"int"``).
        surface_at_least: a stricter smallest number for the command line and the API (where
            asking for 0 faces is a mistake), when the library allows less.
        check: ``check(name, value) -> value``: raises deepface's error for a bad value.
        cli: offered as a flag of the commands whose verb has it.
        api: a field of the REST API's endpoint for the verb.
        cli_flag: the flag, where it is not ``--`` + the name with dashes.
        metavar: the flag's value in ``--help``.
    """

    name: str
    kind: str
    default: Any
    help: str
    choices: Tuple[Any, ...] = ()
    at_least: Optional[int] = None
    check: Optional[Check] = None
    surface_at_least: Optional[int] = None
    cli: bool = False
    api: bool = False
    cli_flag: Optional[str] = None
    metavar: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: kind must be one of {KINDS}, not {self.kind!r}")

    @property
    def nullable(self) -> bool:
        return self.default is None

    @property
    def annotation(self) -> Any:
        base = _ANNOTATIONS[self.kind]
        return Optional[base] if self.nullable and base is not Any else base

    @property
    def flag(self) -> str:
        return self.cli_flag or "--" + self.name.replace("_", "-")

    @property
    def least_asked(self) -> Optional[int]:
        """The smallest number the command line and the API take."""
        return self.surface_at_least if self.surface_at_least is not None else self.at_least

    def validate(self, value: Any) -> Any:
        """``value`` checked (and converted by ``check``); ``None`` passes where it is the default."""
        if self.check is not None:
            return self.check(self.name, value)
        if value is None and self.nullable:
            return None
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {self.choices}, not {value!r}")
        if self.at_least is not None:
            check_whole_number(self.name, value, self.at_least, self.nullable)
        return value

    def field(self) -> Tuple[str, Any, Any]:
        """The dataclass field of this option (a fresh copy of a mutable default per instance)."""
        default = self.default
        if isinstance(default, (dict, list)):
            return self.name, self.annotation, dataclasses.field(default_factory=lambda: type(default)(default))
        return self.name, self.annotation, dataclasses.field(default=default)


def check_whole_number(name: str, value: Any, at_least: int, nullable: bool = False) -> int:
    """``value`` as an ``int`` of at least ``at_least``, else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < at_least:
        what = "a positive integer" if at_least == 1 else f"an integer of at least {at_least}"
        if at_least == 0:
            what = "a non-negative integer"
        raise ValueError(f"{name} must be {'None or ' if nullable else ''}{what}, not {value!r}")
    return value


class Table:
    """The ordered options of one verb."""

    def __init__(self, verb: str, options: Sequence[Option]) -> None:
        names = [option.name for option in options]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"table {verb}: options given twice: {repeated}")
        self.verb = verb
        self._options: Dict[str, Option] = {option.name: option for option in options}

    def __iter__(self) -> Iterator[Option]:
        return iter(self._options.values())

    def __len__(self) -> int:
        return len(self._options)

    def __contains__(self, name: object) -> bool:
        return name in self._options

    def __getitem__(self, name: str) -> Option:
        return self._options[name]

    def __repr__(self) -> str:
        return f"Table({self.verb!r}, {list(self._options)})"

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(self._options)

    def defaults(self) -> Dict[str, Any]:
        return {option.name: option.default for option in self}

    def pick(self, values: Mapping[str, Any]) -> Dict[str, Any]:
        """The values of this table's options from ``values`` (a function's ``locals()``:
        the facade forwards its keywords so), each of them required."""
        return {name: values[name] for name in self._options}

    def only(self, *names: str, verb: Optional[str] = None) -> "Table":
        """These options of the table, in the order given."""
        return Table(verb or self.verb, [self[name] for name in names])

    def without(self, *names: str, verb: Optional[str] = None) -> "Table":
        return Table(verb or self.verb, [option for option in self if option.name not in names])

    def plus(self, verb: str, *parts: "Table | Option") -> "Table":
        """A new verb's table: this one's options, then ``parts``' (tables or options)."""
        options = list(self)
        for part in parts:
            options.extend(part if isinstance(part, Table) else [part])
        return Table(verb, options)

    def arrange(self, verb: str, names: Sequence[str]) -> "Table":
        """This table's options in the order of ``names`` (a signature's order): all of them."""
        missing = set(self._options) ^ set(names)
        if missing:
            raise ValueError(f"table {verb}: the order must name every option once; differs by {sorted(missing)}")
        return Table(verb, [self[name] for name in names])

    def checked(self, values: Mapping[str, Any]) -> Dict[str, Any]:
        """Every option's value (the default where not given), checked; an unknown keyword is a ``TypeError``."""
        unknown = [name for name in values if name not in self._options]
        if unknown:
            raise TypeError(f"{self.verb}() got an unexpected keyword argument {unknown[0]!r}")
        return {option.name: option.validate(values.get(option.name, option.default)) for option in self}

    def dataclass(self, name: str, base: Type[Any] = object, module: Optional[str] = None) -> Type[Any]:
        """A frozen dataclass with one field per option, checked at construction.

        ``base`` may bring methods and a ``_finish(self)`` hook run after the checks
        (cross-field rules). ``module`` names where the class lives (for pickling).
        """
        table = self

        def __post_init__(self: Any) -> None:
            for option in table:
                object.__setattr__(self, option.name, option.validate(getattr(self, option.name)))
            finish = getattr(self, "_finish", None)
            if finish is not None:
                finish()

        namespace = {"__post_init__": __post_init__, "TABLE": table, "__doc__": f"The options of ``{table.verb}``."}
        cls = dataclasses.make_dataclass(
            name, [option.field() for option in self], bases=(base,), namespace=namespace, frozen=True
        )
        if module is not None:
            cls.__module__ = module
            cls.__qualname__ = name
            assert module in sys.modules, module
        return cls
