"""The playground's refusals in the reader's language: every sentence of :class:`explorer.playground.CodeError`
("line 7: 'while' loops are not allowed …") as a template, translated with the values it carries.

The interpreter sits below the translator and writes English (the CLI's language). Its sentences are listed here
as templates of its f-strings, as the runtime's are in :data:`explorer.lessons.i18n.MESSAGE_TEMPLATES`:
:func:`translate_code_error` recognises the reason by its template and writes it again in the current language, the
line number and the names from the code unchanged. A reason that is the words of an exception Python or PyTorch
raised (``CodeError.error``) is quoted as code behind a lead-in. tests/i18n/test_code_errors.py reads every
``CodeError(…)`` of the playground's source and fails for a sentence without a template here.

Order matters where two templates can write the same sentence: the more specific one comes first.
"""

from __future__ import annotations

from ..playground import CodeError
from .i18n import DEFAULT_LANGUAGE, N_, fill_template, gettext, language, match_template, quote_code, translate_error

CODE_TEMPLATES = (
    # explorer.playground.diagnose: the layer that cannot take its input (locate_failure, why_layer_fails)
    N_("{clause} (built in the call at line {line})"),
    N_("{module} fails on input {dims}: {error}"),
    N_("{module} fails: {error}"),
    N_("{module} expects {n} input channels, gets {got}"),
    N_("{module} expects {n} input features, gets {got} ({dims})"),
    N_("{module} expects {n} input features, gets {got}"),
    N_("{module} gets {dims} (padded {padded}), its kernel spans {span}"),
    N_("{module} gets {dims} (padded {padded}), its kernel is {kernel}"),
    N_("{module} gets {dims}, its kernel spans {span}"),
    N_("{module} gets {dims}, its kernel is {kernel}"),
    # explorer.playground.diagnose: the line that turns one image into several (batch_change)
    N_("{call} turns 1 image into {images}: per-image numbers would be wrong"),
    # explorer.playground.links: the code in a link
    N_("the link's code is damaged (it is not base64url)"),
    N_("the link's code is larger than {limit} bytes"),
    N_("the link's code is damaged (it was cut short)"),
    N_("the link's code is damaged (it does not decompress)"),
    # explorer.playground.interpreter: reading the code
    N_("the code must be text, not a {type}"),
    N_("the code is {size} bytes; the playground takes at most {limit}"),
    N_("syntax error: {error}"),
    N_("the code cannot be parsed ({error})"),
    # … the checks before anything runs, and the constructs the playground leaves out
    N_("the code is nested more than {limit} levels deep"),
    N_("'while' loops are not allowed (use 'for … in range(…)')"),
    N_("'lambda' is not allowed (define a function with 'def')"),
    N_("'import *' is not allowed"),
    N_("'import {module}' is not allowed: only torch, torch.nn and torch.nn.functional can be imported"),
    N_("'from {module} import …' is not allowed: only torch, torch.nn and torch.nn.functional can be imported"),
    N_("'{construct}' statements are not allowed"),
    N_("'{construct}' expressions are not allowed"),
    N_("'{construct}' is not allowed"),
    N_("attribute '{name}' of a {type} is not available in the playground"),
    N_("the tensor attribute '{name}' is not available in the playground"),
    N_("'{name}' is not available in the playground"),
    N_("{namespace}.{name} is not available in the playground"),
    N_("attribute '{name}' is not allowed"),
    N_("decorators are not allowed"),
    N_("the name '{name}' is not allowed"),
    N_("the keyword '{name}' is not allowed"),
    N_("method name '{name}' is not allowed"),
    N_("class keywords (metaclass=…) are not allowed"),
    N_("{type} literals are not allowed"),
    N_("async comprehensions are not allowed"),
    N_("format specifications in f-strings are not allowed"),
    N_("'%' formatting of strings is not allowed (use an f-string)"),
    N_("keyword arguments with '__' are not allowed"),
    N_("int() with a base is not allowed"),
    # … the limits
    N_("the code takes more than {limit} steps (an endless or very long loop?)"),
    N_("a value with {n} elements exceeds the limit of {limit}"),
    N_("a number larger than 2**{bits} is not allowed"),
    N_("calls nest more than {limit} deep (endless recursion?)"),
    N_("the code nests calls too deeply"),
    N_("the network has more than {limit} modules"),
    N_("the network has more than {limit} parameters"),
    N_("the network has {count} modules; the playground takes at most {limit}"),
    N_("a tensor of {n} elements is beyond the limit"),
    N_("{layer} with {n} layers is beyond the playground's limit of 100"),
    # … names, values and calls
    N_("name '{name}' is not defined"),
    N_("'{type}' object has no attribute '{name}'"),
    N_("a {type} has no len()"),
    N_("a {type} cannot be called"),
    N_("a {type} is not a number"),
    N_("a {type} is not iterable"),
    N_("a {type} cannot be indexed"),
    N_("a {type} cannot be a dict key here"),
    N_("'in' on a {type} is not allowed"),
    N_("arithmetic on a {type} is not allowed"),
    N_("the operator {operator} is not allowed"),
    N_("{function}() of a {type} is not allowed"),
    N_("range() takes integers"),
    N_("slice bounds must be integers"),
    N_("dict keys must be numbers, strings or tuples"),
    N_("'**' needs a dict with string keys"),
    N_("'**' needs a dict"),
    N_("'*' is only allowed in calls, lists and tuples"),
    N_("isinstance() takes built-in types, nn layer classes or classes defined in the code"),
    N_("{function}() takes no keyword arguments here but 'default'/'start'"),
    N_("{function}() takes {n} positional arguments but {given} were given"),
    N_("{function}() got multiple values for argument '{name}'"),
    N_("{function}() got an unexpected keyword argument '{name}'"),
    N_("{function}() is missing the keyword argument '{name}'"),
    N_("{function}() is missing the argument '{name}'"),
    N_("not enough values to unpack (expected at least {n}, got {got})"),
    N_("cannot unpack {n} values into {names} names"),
    N_("cannot assign items of a {type}"),
    N_("cannot assign to {target}"),
    N_("'break' or 'continue' outside a loop"),
    N_("the truth of a tensor's values is unknown while the network is analysed"),
    N_("assert: {message}"),
    # … classes and modules
    N_("class {name} must subclass exactly one of nn.Module or a class defined above"),
    N_("class {name} must subclass nn.Module (or nn.Sequential, nn.ModuleList, or a class defined above)"),
    N_("class {name} may only hold methods (def)"),
    N_("method {name} needs 'self' as its first parameter"),
    N_("{name}.__init__ must call super().__init__() first"),
    N_("{name}.__init__ must not return a value"),
    N_("{name} has no forward method"),
    N_("'{name}' is a name nn.Module uses itself; choose another"),
    N_("cannot set attributes on a {type}"),
    N_("only modules can be set on a {type}"),
    N_("add_module needs a name without '.' that does not start with '_'"),
    N_("super() takes no arguments or (Class, self)"),
    N_("super() is only allowed inside a method of a class defined in the code"),
    N_("super() is only allowed inside a method"),
    N_("super() has no method '{name}' here"),
    # … the network it builds
    N_("'net' is a {type}, not a network (an nn.Module)"),
    N_("the code builds no network: bind one to 'net', e.g. net = nn.Sequential(…)"),
)


def code_template(reason: str) -> str | None:
    """The template of :data:`CODE_TEMPLATES` that writes ``reason`` (a ``CodeError``'s sentence without its line),
    or ``None``."""
    found = match_template(reason, CODE_TEMPLATES)
    return found[0] if found else None


def translate_reason(reason: str) -> str:
    """A ``CodeError``'s sentence (without its line) in the current language: by its template; a sentence of the
    analysis or the runtime by theirs; anything else quoted as code behind a lead-in."""
    if language() == DEFAULT_LANGUAGE:
        return reason
    found = match_template(reason, CODE_TEMPLATES)
    return fill_template(*found, CODE_TEMPLATES) if found else translate_error(reason)


def translate_code_error(error: CodeError) -> str:
    """``str(error)`` in the current language: "第 7 行：…" and the reason translated (see :func:`translate_reason`);
    an exception's own words (``error.error``) quoted as code, with what was being called."""
    if language() == DEFAULT_LANGUAGE:
        return str(error)
    if error.error is not None:
        words = quote_code(error.error)
        reason = (gettext("calling {call} failed: {error}").format(call=quote_code(error.call), error=words)
                  if error.call else gettext("the code failed: {error}").format(error=words))
    else:
        reason = translate_reason(error.reason)
    return gettext("line {line}: {reason}").format(line=error.line, reason=reason) if error.line else reason
