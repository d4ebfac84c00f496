"""Template text for demo conversations: topics with subjects, openings, replies and outcomes.

``subjects``, ``openings`` and ``resolutions`` are parallel: the i-th subject goes with the
i-th opening and resolution (modulo their lengths). Placeholders are filled by ``conversations.Planner.fill``: {name} (the customer's greeting name),
{agent} (the agent's first name), {order}, {invoice}, {amount}, {product}, {date}, {org}.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    key: str
    team: str  # "Support" or "Billing"
    tags: tuple[str, ...]
    subjects: tuple[str, ...]
    openings: tuple[str, ...]
    questions: tuple[str, ...]  # an agent's first reply that asks for something (-> pending)
    answers: tuple[str, ...]  # the customer's answer to that question
    resolutions: tuple[str, ...]  # an agent's reply that solves the problem
    priority_weights: tuple[int, int, int, int] = (20, 55, 20, 5)  # low, normal, high, urgent


TOPICS: tuple[Topic, ...] = (
    Topic(
        key="login",
        team="Support",
        tags=("login", "account"),
        subjects=(
            "Can't log in since this morning",
            "Password reset email never arrives",
            "Locked out after too many attempts",
            "Two-factor codes are rejected",
        ),
        openings=(
            "Hi, I have been trying to log in since this morning and keep getting "
            '"invalid credentials". I have not changed my password. Can you help?',
            "Hello, I requested a password reset three times but no email arrives, not even in "
            "the spam folder. My address is the one on this message.",
            "My account seems to be locked. I mistyped my password a few times and now nothing "
            "works. We have a deadline today, so this is urgent for me.",
            "The two-factor codes from my authenticator app are rejected every time, even right "
            "after they appear.",
        ),
        questions=(
            "Thanks for reaching out, {name}. Could you tell me which browser you are using and "
            "whether you see an error code under the login form?",
            "Sorry about the trouble, {name}. Can you confirm the exact address you use to sign "
            "in? Sometimes an old alias is still on file.",
        ),
        answers=(
            "It's Firefox on Windows. The code says AUTH-401.",
            "I use the address this email comes from. I also tried my old one, same result.",
            "Chrome on a Mac. No code, just the red message.",
        ),
        resolutions=(
            "Your password had expired under your company's policy, {name}. I sent a fresh "
            "reset link; it is valid for one hour.",
            "Our mail provider had delayed some reset emails; they are flowing again and I "
            "resent yours just now. You should be able to log in.",
            "I have unlocked your account and sent a fresh reset link, {name}. It is valid for "
            "one hour. Let me know if anything still blocks you.",
            "The two-factor device on your account was out of sync. I reset it; you will be "
            "asked to enrol your phone again at the next login.",
        ),
        priority_weights=(5, 45, 40, 10),
    ),
    Topic(
        key="invoice",
        team="Billing",
        tags=("billing", "invoice"),
        subjects=(
            "Invoice {invoice} shows the wrong VAT number",
            "Please send a copy of invoice {invoice}",
            "Company address on our invoices is outdated",
        ),
        openings=(
            "Hello, invoice {invoice} lists an old VAT number for {org}. Our accounting cannot "
            "book it like this. Could you reissue it?",
            "Hi, our finance team needs a PDF copy of invoice {invoice} for the audit. Thanks!",
            "We moved offices last month. Could you update the billing address on our account "
            "and reissue invoice {invoice}?",
        ),
        questions=(
            "Happy to fix that, {name}. Could you send me the correct VAT number and the name "
            "of the legal entity exactly as it should appear?",
            "Of course. Should the reissued invoice go to you or to a separate billing contact?",
        ),
        answers=(
            "The VAT number is on our letterhead, attached. Legal name: {org}.",
            "Please send it to me, I will forward it to accounts payable.",
        ),
        resolutions=(
            "I have reissued invoice {invoice} with the corrected details and attached it here. "
            "The old one is cancelled, so there is nothing else to do on your side.",
            "Here is the copy of invoice {invoice} as a PDF. You can also download every invoice "
            "from Settings, then Billing.",
            "Done: the billing address is updated and every future invoice will use it. A "
            "corrected copy of {invoice} is attached.",
        ),
    ),
    Topic(
        key="refund",
        team="Billing",
        tags=("billing", "refund"),
        subjects=(
            "Charged twice for {product}",
            "Cancelled but still billed {amount}",
            "Refund request for order {order}",
        ),
        openings=(
            "Hi, my card was charged {amount} twice on {date} for {product}. Please refund the "
            "duplicate charge.",
            "I cancelled order {order} within the trial period but was still billed {amount}. "
            "I would like a refund, please.",
            "Please refund order {order}: the {product} wasn't what we needed and we sent it back "
            "unopened on {date}.",
        ),
        questions=(
            "I'm sorry about that, {name}. To find the payment quickly, could you send me the "
            "last four digits of the card and the date of the charge?",
            "Thanks, {name}. Could you confirm whether the cancellation was made from your "
            "account page or by email?",
        ),
        answers=(
            "Card ending 4417, charged on {date}.",
            "From the account page. I have a screenshot of the confirmation if that helps.",
        ),
        resolutions=(
            "I found the duplicate charge and refunded {amount}. Depending on your bank it "
            "shows up within 3 to 5 business days.",
            "The refund of {amount} for order {order} is on its way. You'll get a separate "
            "confirmation email from our payment provider.",
            "Your return arrived in good shape, so I refunded {amount} for order {order}. Thanks "
            "for sending it back so quickly.",
        ),
        priority_weights=(5, 50, 35, 10),
    ),
    Topic(
        key="plan",
        team="Billing",
        tags=("billing", "plan-change"),
        subjects=(
            "Upgrade to the annual plan",
            "How do I add five more seats?",
        ),
        openings=(
            "We'd like to switch {org} to the annual plan. Will the remaining monthly fee be "
            "credited?",
            "Hi, we are hiring and need five more seats. Can I add them mid-cycle?",
        ),
        questions=(
            "Great to hear, {name}. Should the change apply from today or from your next "
            "renewal on {date}?",
        ),
        answers=("From today, please.", "From the renewal date is fine."),
        resolutions=(
            "All set: your account is on the annual plan and the unused part of this month is "
            "credited on the first annual invoice.",
            "I added the seats; you'll see a prorated line of {amount} on the next invoice.",
        ),
        priority_weights=(30, 60, 10, 0),
    ),
    Topic(
        key="bug",
        team="Support",
        tags=("bug",),
        subjects=(
            "Export to CSV produces an empty file",
            "Dashboard doesn't load on Safari",
            "Error 500 when saving {product} settings",
        ),
        openings=(
            "When I export the report to CSV the downloaded file is empty (0 bytes). This "
            "started after last week's update.",
            "The dashboard spins forever on Safari 17. It works in Chrome. Cache already cleared.",
            'Saving the settings for {product} fails with "Server error 500". Nothing I change '
            "seems to matter.",
        ),
        questions=(
            "Thanks for the detailed report, {name}. Could you send a screenshot and the time "
            "it last happened, so I can find it in our logs?",
            "I'm sorry about this. Does it happen for every report, or only for large ones?",
        ),
        answers=(
            "Screenshot attached. Last time was about 10 minutes ago.",
            "Only for reports with more than a few thousand rows, small ones are fine.",
        ),
        resolutions=(
            "Our engineers found the cause: a timeout on large exports. A fix was deployed this "
            "morning; could you try again? It works on our side with your data.",
            "This was a bug in the latest release and it is fixed now. Thanks for your "
            "patience and for the clear report, {name}.",
        ),
        priority_weights=(10, 45, 35, 10),
    ),
    Topic(
        key="howto",
        team="Support",
        tags=("how-to",),
        subjects=(
            "How do I invite a colleague?",
            "Can I change the language of notifications?",
            "Where do I find the API key?",
        ),
        openings=(
            "Hi! Quick question: how do I invite a colleague to our workspace?",
            "Is it possible to receive the notification emails in German?",
            "I'm setting up an integration and can't find where the API key lives.",
        ),
        questions=(
            "Good question, {name}. Are you an administrator of the workspace? Invitations need "
            "that role.",
        ),
        answers=("Yes, I'm the admin.", "I think so, I created the account."),
        resolutions=(
            "You'll find it under Settings, then Team, then Invite. The colleague receives an "
            "email and can join straight away.",
            "Under Profile, then Preferences you can pick the language; notifications follow it "
            "from the next email on.",
            "API keys are under Settings, then Developers. Treat the key like a password.",
        ),
        priority_weights=(40, 55, 5, 0),
    ),
    Topic(
        key="shipping",
        team="Support",
        tags=("shipping", "order"),
        subjects=(
            "Where is my order {order}?",
            "Package {order} arrived damaged",
            "Wrong item delivered for order {order}",
        ),
        openings=(
            "My order {order} was supposed to arrive on {date} and tracking hasn't moved for "
            "four days.",
            "The box for order {order} was crushed and the {product} inside is cracked. Photos "
            "attached.",
            "I ordered a {product} but order {order} contained something else entirely.",
        ),
        questions=(
            "I'm sorry, {name}. Could you confirm the delivery address, so I can check it "
            "against the carrier's record?",
        ),
        answers=("It's the address in my account, nothing changed.",),
        resolutions=(
            "The carrier lost track of the parcel, so I sent a replacement by express; it "
            "arrives within two days. No need to return anything.",
            "A replacement {product} is on its way and I added a return label for the damaged "
            "one to this message.",
            "Sorry for the mix-up! The right {product} ships today; please keep the other item.",
        ),
        priority_weights=(10, 60, 25, 5),
    ),
    Topic(
        key="feature",
        team="Support",
        tags=("feature-request",),
        subjects=(
            "Feature request: dark mode",
            "Please add bulk editing",
        ),
        openings=(
            "We use the app all day and a dark mode would really help our eyes. Any plans?",
            "It would save us a lot of time if we could edit several items at once.",
        ),
        questions=(
            "Thanks for the suggestion, {name}! How many people on your team would use it?",
        ),
        answers=("About fifteen of us, every day.",),
        resolutions=(
            "I've passed this to our product team with your use case. It's on the roadmap for "
            "next quarter; I'll let you know when it ships.",
        ),
        priority_weights=(60, 40, 0, 0),
    ),
    Topic(
        key="privacy",
        team="Support",
        tags=("privacy", "account"),
        subjects=("Request a copy of my data", "Please delete my account"),
        openings=(
            "Under GDPR I'd like a copy of all the personal data you store about me.",
            "Please close my account and delete my data. Thank you.",
        ),
        questions=(
            "Of course, {name}. To protect your account, could you confirm the request from "
            "the address we have on file?",
        ),
        answers=("Confirmed, this is my address on file.",),
        resolutions=(
            "Your data export is ready; the download link in this message is valid for seven days.",
            "Your account is closed and your personal data is scheduled for deletion within 30 "
            "days, as described in our privacy policy.",
        ),
        priority_weights=(10, 70, 20, 0),
    ),
)

FOLLOW_UPS = (
    "Any update on this?",
    "Hi again, just checking whether you had a chance to look at this.",
    "Sorry to push, but this is blocking us. Any news?",
)
THANKS = (
    "That worked, thank you so much!",
    "Perfect, thanks for the quick help.",
    "Great, all good now. Have a nice day!",
)
STILL_BROKEN = (
    "Thanks, but it still doesn't work on my side. Same error as before.",
    "I tried again and unfortunately nothing changed.",
)
ON_HOLD_REPLIES = (
    "I have escalated this to our engineering team, {name}. I'll get back to you as soon as I "
    "hear from them.",
    "We're waiting on our payment provider for this one. I'll update you as soon as they answer.",
)
INTERNAL_NOTES = (
    "Checked the logs: same pattern as last week's incident. Linking for context.",
    "Customer is on the {org} contract, renewal coming up. Let's be quick here.",
    "Asked engineering in #support-escalations, waiting for an answer.",
    "Second ticket from this customer about the same issue this month.",
    "Refund approved by {agent}.",
    "Careful: customer prefers short answers, no marketing mentions.",
)
CHAT_OPENINGS = (
    "hi, quick question",
    "hello, anyone there?",
    "Hi! I need help with something",
)
CHAT_AGENT_LINES = (
    "Hi {name}, I'm {agent}. How can I help?",
    "Let me check that for you, one moment please.",
    "Thanks for waiting. I see what happened.",
    "Is there anything else I can do for you?",
)
CHAT_CUSTOMER_LINES = ("ok thanks", "sure", "great, thank you!", "yes that's the one")
CALL_OUTCOMES = (
    "resolved on the call",
    "callback scheduled",
    "left voicemail",
    "no answer",
    "escalated to engineering",
    "sent follow-up by email",
)
CALL_IN_SUMMARIES = (
    "{name} called about this. {opening}",
    "Inbound call from {name}. Summary: {opening}",
)
CALL_OUT_SUMMARIES = (
    "Called {name} back and walked through the steps together. {resolution}",
    "Phoned {name} to follow up. {resolution}",
)
CUSTOMER_NOTES = (
    "Prefers email over phone; hard of hearing.",
    "Key contact for the renewal. Be proactive.",
    "Has asked not to be contacted before 10:00 local time.",
    "Long-time customer since the beta.",
    "Often writes in German; replying in English is fine.",
    "Uses a screen reader; avoid screenshots-only answers.",
)
PRODUCTS = ("Starter kit", "Pro licence", "Team workspace", "Analytics add-on", "Hardware token")
