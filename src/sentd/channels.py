"""Which channels a phone number can take.

From the number's line type: a mobile can take SMS and WhatsApp, every other line type SMS only.
The simulator's magic numbers refine that (last four digits of the national number `0003`: no
WhatsApp). Providers configured later may refine it further.
"""

from __future__ import annotations

from sentd.phones import PhoneInfo

SMS = "sms"
WHATSAPP = "whatsapp"
CONTACT_CHANNELS = (SMS, WHATSAPP)  # the channels a contact can have as its default
NO_WHATSAPP_SUFFIX = "0003"


def available_channels(info: PhoneInfo) -> list[str]:
    if info.line_type != "mobile" or info.last_four == NO_WHATSAPP_SUFFIX:
        return [SMS]
    return [SMS, WHATSAPP]
