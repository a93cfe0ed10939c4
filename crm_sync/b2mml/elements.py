"""B2MML's XML plumbing shared by the schedules we write and the messages the MES sends: the namespace,
element helpers that write ours, namespace-blind helpers that read theirs, and the document's bytes."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

NS = "http://www.mesa.org/xml/B2MML"
RELEASE_ID = "7.01"

ET.register_namespace("", NS)

XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


# --- writing ----------------------------------------------------------------------------------------------
def serialize(root: ET.Element) -> bytes:
    """The same bytes as ET.tostring(root, encoding="utf-8", xml_declaration=True), about a third cheaper:
    serialising to text and encoding once skips a codec call per element (one document per delivery)."""
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode()


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


# --- reading (namespace-blind on purpose: real senders differ in namespaces and prefixes) ------------------
def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local_name(child.tag) == name]


def text_of(element: ET.Element, name: str) -> str | None:
    """The stripped text of the first child called `name`; None if there is no such child."""
    found = children(element, name)
    return (found[0].text or "").strip() if found else None
