"""B2MML's XML plumbing shared by the schedules we write and the messages the MES sends: the namespace,
element helpers that write ours, namespace-blind helpers that read theirs, and the document's bytes."""

from __future__ import annotations

import codecs
import re
from typing import Any
from xml.etree import ElementTree as ET

NS = "http://www.mesa.org/xml/B2MML"
RELEASE_ID = "7.01"

ET.register_namespace("", NS)

XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


# --- writing ----------------------------------------------------------------------------------------------
def serialize(root: ET.Element) -> bytes:
    """The same bytes as ET.tostring(root, encoding="utf-8", xml_declaration=True), in a fifth of its CPU.

    One document per delivery: ElementTree's writer (pure Python) first walks the tree to collect its
    namespaces, then writes it a call per piece; ours knows the one namespace (every tag in it, the
    default one, no prefixes) and writes each element in one piece. A tree with anything else (a tag or
    attribute in another namespace, a comment) is left to ElementTree.
    """
    parts: list[str] = []
    try:
        _write(root, parts, f' xmlns="{_escape_attribute(NS)}"')
    except _NotOurs:
        return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()
    return XML_DECLARATION + "".join(parts).encode()


class _NotOurs(Exception):
    """The tree holds something `_write` does not write as ElementTree would."""


_OURS = f"{{{NS}}}"
_OURS_LENGTH = len(_OURS)


def _write(element: ET.Element, parts: list[str], namespace: str = "") -> None:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(_OURS):
        raise _NotOurs
    tag = tag[_OURS_LENGTH:]
    head = "<" + tag + namespace
    if element.attrib:
        for key, value in element.attrib.items():
            if not isinstance(key, str) or key.startswith("{") or not isinstance(value, str):
                raise _NotOurs
            head += f' {key}="{_escape_attribute(value)}"'
    text = element.text
    if len(element):
        parts.append(head + ">" + _escape_text(text) if text else head + ">")
        for child in element:
            _write(child, parts)
        parts.append("</" + tag + ">")
    elif text:
        parts.append(f"{head}>{_escape_text(text)}</{tag}>")
    else:
        parts.append(head + " />")
    if element.tail:
        parts.append(_escape_text(element.tail))


def _escape_text(text: str) -> str:
    """Character data as ElementTree escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(text: str) -> str:
    """An attribute value as ElementTree escapes it (line ends and tabs as character references)."""
    text = _escape_text(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def qualified(tag: str) -> str:
    """The tag in the B2MML namespace."""
    return f"{{{NS}}}{tag}"


def sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    """A B2MML child element of `parent`, with `text` (as a string) when given."""
    element = ET.SubElement(parent, qualified(tag), attrs)
    if text is not None:
        element.text = str(text)
    return element


def application_area(
    root: ET.Element, *, sender: str, created: str, bod_id: str, confirmation: str = "", receiver: str = ""
) -> ET.Element:
    """The BOD's ApplicationArea: who sends (asking for a confirmation, when `confirmation`), to whom, when,
    and the BODID the receiver deduplicates on."""
    area = sub(root, "ApplicationArea")
    sender_element = sub(area, "Sender")
    sub(sender_element, "LogicalID", sender)
    if confirmation:
        sub(sender_element, "ConfirmationCode", confirmation)
    if receiver:
        sub(sub(area, "Receiver"), "LogicalID", receiver)
    sub(area, "CreationDateTime", created)
    sub(area, "BODID", bod_id)
    return area


# --- reading: the document's text and tree ----------------------------------------------------------------
# The encoding a document declares in its first line, e.g. <?xml version="1.0" encoding="ISO-8859-1"?>.
_DECLARED_ENCODING = re.compile(
    rb"""\A<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]{0,39})["']"""
)


def document_text(document: bytes) -> str:
    """The document as text, decoded as XML says it is: by its byte-order mark, else its declared
    encoding, else UTF-8 (the default of XML). Raises ValueError when the bytes are not text in that
    encoding, or the encoding is unknown.

    The text keeps its declaration: `parse` reads text whatever encoding the declaration names (the bytes
    are decoded already), so what is stored as text reads back as what was sent.
    """
    if document.startswith(codecs.BOM_UTF8):
        return document[len(codecs.BOM_UTF8) :].decode("utf-8")
    if document.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return document.decode("utf-16")
    if document.startswith(b"<\x00"):  # UTF-16 without a byte-order mark, as XML allows
        return document.decode("utf-16-le")
    if document.startswith(b"\x00<"):
        return document.decode("utf-16-be")
    match = _DECLARED_ENCODING.match(document)
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return document.decode(encoding)
    except LookupError as exc:  # unknown, or not a character encoding (base64, zlib)
        raise ValueError(f"{encoding} is not a character encoding we know") from exc


def parse(document: bytes | str) -> ET.Element:
    """The root element of a document: bytes decoded as their BOM or declaration says, text as it is
    (expat ignores the declared encoding of text). Raises ET.ParseError for anything not well-formed."""
    return ET.fromstring(document)  # noqa: S314 - signed senders only; expat refuses entity amplification


# --- reading (namespace-blind on purpose: real senders differ in namespaces and prefixes) ------------------
def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local_name(child.tag) == name]


def text_of(element: ET.Element, name: str) -> str | None:
    """The stripped text of the first child called `name`; None if there is no such child."""
    found = children(element, name)
    return (found[0].text or "").strip() if found else None
