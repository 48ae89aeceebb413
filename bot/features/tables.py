"""Every table of the bot, imported so SQLModel's metadata knows them all (and the tally hook)."""

from bot.conversation import models as _conversation  # noqa: F401
from bot.core.models import areas, consent, han, households, membership, residents, staff  # noqa: F401
from bot.features.events import models as _events  # noqa: F401
from bot.features.membership import models as _membership  # noqa: F401
from bot.features.membership import tally as _membership_tally  # noqa: F401 - its flush hook
from bot.features.mimamori import models as _mimamori  # noqa: F401
from bot.features.notices import models as _notices  # noqa: F401
from bot.features.safety import models as _safety  # noqa: F401
from bot.features.surveys import models as _surveys  # noqa: F401
from bot.features.surveys import tally as _survey_tally  # noqa: F401 - its flush hook
from bot.features.volunteers import models as _volunteers  # noqa: F401
from bot.platform import inbox_models as _inbox  # noqa: F401
from bot.platform.delivery import models as _delivery  # noqa: F401
from bot.platform.scheduler import models as _scheduler  # noqa: F401
