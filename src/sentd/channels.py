"""Which channels a phone number can take.

From the number's line type: a mobile can take SMS and WhatsApp, every other line type SMS only.
In test mode the simulator's magic numbers refine that (last four digits of the national number
`0003`: no WhatsApp). Live numbers are never judged by a magic suffix: a live mobile number ending
in 0003 has WhatsApp like any other. Providers configured later may refine it further.
"""

from __future__ import annotations

from sentd.phones import PhoneInfo

SMS = "sms"
WHATSAPP = "whatsapp"
CONTACT_CHANNELS = (SMS, WHATSAPP)  # the channels a contact can have as its default
NO_WHATSAPP_SUFFIX = "0003"  # test mode only


def available_channels(info: PhoneInfo, *, livemode: bool) -> list[str]:
    if info.line_type != "mobile":
        return [SMS]
    if not livemode and info.last_four == NO_WHATSAPP_SUFFIX:
        return [SMS]
    return [SMS, WHATSAPP]
