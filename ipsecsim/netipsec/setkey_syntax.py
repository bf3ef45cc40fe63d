"""setkey(8)'s scanner and grammar (token.l, parse.y) and libipsec's policy parser. [S10.4]-[S10.7]

:class:`Lexer` reproduces the flex scanner: longest match, earlier rule on a tie,
and the start states that make algorithm names keywords only right after ``-E``
or ``-A`` and swallow a whole policy after ``-P`` (with flex's ``yymore()``: the
token after a policy carries the policy's text in ``yytext``). :class:`Parser`
is a recursive-descent transcription of parse.y's productions: ``add``, ``get``,
``delete``, ``deleteall``, ``flush``, ``dump``, ``spdadd``, ``spddelete``,
``spdflush``, ``spddump`` (and ``spdupdate``, an ipsecsim extension: FreeBSD's
token.l lacks it, ipsec-tools has it). :func:`parse_policy` is
``ipsec_set_policy`` (policy_token.l, policy_parse.y).

Errors are :class:`SetkeyError` with setkey's own words and the token flex's
``yytext`` holds when parse.y reports them (the last token read; a quoted key
without its quotes, since the scanner strips them in place). :meth:`Parser.next_command`
parses one statement at a time, so a caller runs each before a later one fails to
parse, as setkey's actions do.

Layout: the scanner is in ``_setkey_lexer``, the grammar in ``_setkey_parser``,
the statements it builds in ``_setkey_commands``, ``ipsec_set_policy`` in
``_policy_parser`` and the ``/etc/protocols`` tables in ``_protocols``; every
name is importable from here.
"""

from ._policy_parser import ParsedPolicy, PolicyError, parse_policy
from ._protocols import IPPROTO_ICMPV6, PROTOCOL_NAMES, PROTOCOL_NUMBERS
from ._setkey_commands import AddCommand, PolicyCommand, TableCommand
from ._setkey_lexer import Lexer, Token
from ._setkey_parser import Parser, parse_add, parse_script

__all__ = [
    "Token", "Lexer", "Parser", "AddCommand", "TableCommand", "PolicyCommand", "ParsedPolicy",
    "parse_add", "parse_policy", "parse_script", "PolicyError",
    "PROTOCOL_NAMES", "PROTOCOL_NUMBERS", "IPPROTO_ICMPV6",
]
