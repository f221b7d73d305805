"""Users and API tokens: create, authenticate, issue and revoke."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from werkzeug.security import check_password_hash, generate_password_hash

from campaigns.db import db, utcnow
from campaigns.errors import Conflict, NotFound, ValidationError
from campaigns.models import ApiToken, Role, User

MIN_PASSWORD_LENGTH = 10
TOKEN_USE_RESOLUTION = timedelta(minutes=5)
_UNUSED_HASH = generate_password_hash("not a password", method="scrypt")


def normalise_login_email(email: str) -> str:
    """Return the address in the form users are stored and looked up by."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(f"Not a valid email address: {exc}") from exc


def create_user(email: str, password: str, *, role: Role = Role.MEMBER, name: str = "") -> User:
    """Add a user with a hashed password; the first user is always an owner."""
    address = normalise_login_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if db.session.scalar(db.select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"A user with the address {address} already exists.")
    if not has_users():
        role = Role.OWNER
    user = User(email=address, name=name.strip(), role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def has_users() -> bool:
    """Tell whether anyone can log in yet (false before first-run set-up)."""
    return db.session.scalar(db.select(User.id).limit(1)) is not None


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with this address and password, or None."""
    try:
        address = normalise_login_email(email)
    except ValidationError:
        return None
    user = db.session.scalar(db.select(User).where(User.email == address))
    if user is None:
        check_password_hash(_UNUSED_HASH, password)  # same cost whether or not the user exists
        return None
    if not user.active or not user.check_password(password):
        return None
    user.last_login_at = utcnow()
    return user


def find_user(email: str) -> User:
    """Return the user with this address or raise NotFound."""
    user = db.session.scalar(db.select(User).where(User.email == normalise_login_email(email)))
    if user is None:
        raise NotFound(f"No user with the address {email}.")
    return user


def issue_token(user: User, name: str = "") -> str:
    """Create an API token for the user and return it; only its hash is kept."""
    token = ApiToken.generate()
    db.session.add(ApiToken(user=user, name=name.strip() or "API token",
                            token_hash=ApiToken.hash(token), prefix=token[:8]))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    row = db.session.scalar(db.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token),
                                                      ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_RESOLUTION:
        row.last_used_at = now  # coarse, so reads do not each cost a write
    return row.user


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of the user's tokens (owners may revoke anyone's)."""
    row = db.session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and not user.is_owner):
        raise NotFound("No such token.")
    row.revoked_at = utcnow()
