"""The judge invitation's one-time link, bound to what the account may do.

Like Django's password-reset token it stops working once a password is set, the
judge signs in, or PASSWORD_RESET_TIMEOUT passes; it also stops working as soon as
the account gains any other role (staff, organiser of an event, judge of another
event's batch, a group), so that a link read by one event's organisers can never
open an account that later reaches further.
"""

from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class JudgeInvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "podium.awards.JudgeInvitationTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        roles = [
            str(user.is_staff),
            str(user.is_superuser),
            ",".join(
                str(pk) for pk in sorted(user.groups.values_list("pk", flat=True))
            ),
            ",".join(
                str(pk)
                for pk in sorted(user.organised_events.values_list("pk", flat=True))
            ),
            ",".join(
                str(pk)
                for pk in sorted(
                    set(
                        user.judged_batches.values_list("category__event_id", flat=True)
                    )
                )
            ),
        ]
        return super()._make_hash_value(user, timestamp) + "|" + "|".join(roles)


judge_invitation_token = JudgeInvitationTokenGenerator()


def account_serves_one_event(user: Any) -> bool:
    """An account that exists only to judge one event's batches, never used yet."""
    return (
        user.is_active
        and not user.has_usable_password()
        and user.last_login is None
        and not user.is_staff
        and not user.is_superuser
        and not user.groups.exists()
        and not user.organised_events.exists()
        and user.judged_batches.values("category__event_id").distinct().count() <= 1
    )
