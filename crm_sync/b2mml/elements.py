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
    """The same bytes as ET.tostring(root, encoding="utf-8", xml_declaration=True), about a third cheaper:
    serialising to text and encoding once skips a codec call per element."""
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()


def _escape_text(text: str) -> str:
    """Character data as ElementTree escapes it (Writer writes what `serialize` would)."""
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


class Writer:
    """A B2MML document written as text in document order, for the documents we send on every delivery:
    the same bytes as building the tree with `sub` and `serialize`, without the tree (a third of the CPU).

    Every element is in the B2MML namespace, the default one. `open` an element that will have children,
    `close` it after them; `leaf` writes one with text (or an empty one, as ElementTree writes it, when the
    text is None or empty).
    """

    def __init__(self, root: str, **attrs: str) -> None:
        self._parts = [f'<{root} xmlns="{_escape_attribute(NS)}"{_attributes(attrs)}>']
        self._open = [root]

    def open(self, tag: str, **attrs: str) -> None:
        self._parts.append(f"<{tag}{_attributes(attrs)}>" if attrs else f"<{tag}>")
        self._open.append(tag)

    def close(self) -> None:
        self._parts.append(f"</{self._open.pop()}>")

    def leaf(self, tag: str, text: Any = None, **attrs: str) -> None:
        head = f"<{tag}{_attributes(attrs)}" if attrs else f"<{tag}"
        value = "" if text is None else str(text)
        self._parts.append(f"{head}>{_escape_text(value)}</{tag}>" if value else f"{head} />")

    def document(self) -> bytes:
        """The document's bytes, with the XML declaration (every element still open is closed)."""
        while self._open:
            self.close()
        return XML_DECLARATION + "".join(self._parts).encode()


def write_application_area(
    out: Writer, *, sender: str, created: str, bod_id: str, confirmation: str = "", receiver: str = ""
) -> None:
    """`application_area` for a document being written."""
    out.open("ApplicationArea")
    out.open("Sender")
    out.leaf("LogicalID", sender)
    if confirmation:
        out.leaf("ConfirmationCode", confirmation)
    out.close()
    if receiver:
        out.open("Receiver")
        out.leaf("LogicalID", receiver)
        out.close()
    out.leaf("CreationDateTime", created)
    out.leaf("BODID", bod_id)
    out.close()


def _attributes(attrs: dict[str, str]) -> str:
    return "".join(f' {key}="{_escape_attribute(value)}"' for key, value in attrs.items())


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
