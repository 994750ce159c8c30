"""Repair flow: choose another source sensor when the chosen one is gone or unfit.

One flow serves both source issues (``source_missing``, ``source_unsuitable``);
what it says comes from the issue's own ``fix_flow`` strings.
"""

from __future__ import annotations

from typing import Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .config_flow import async_validate_source, entry_title, source_schema
from .const import CONF_SOURCE_ENTITY, DOMAIN


class SourceMissingRepairFlow(RepairsFlow):
    """Point an entry whose source sensor is gone or unfit at another one."""

    def __init__(self, entry_id: str) -> None:
        """Fix the issue of one config entry."""
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> data_entry_flow.FlowResult:
        """Start with the choice of sensor."""
        return await self.async_step_choose_source()

    async def async_step_choose_source(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Choose and check the new source; the entry then reloads."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_SOURCE_ENTITY]
            other = self.hass.config_entries.async_entry_for_domain_unique_id(
                DOMAIN, entity_id
            )
            if other is not None and other.entry_id != entry.entry_id:
                errors[CONF_SOURCE_ENTITY] = "already_configured"
            elif error := await async_validate_source(self.hass, entity_id):
                errors[CONF_SOURCE_ENTITY] = error
            else:
                self.hass.config_entries.async_update_entry(
                    entry,
                    unique_id=entity_id,
                    title=entry_title(self.hass, entity_id),
                    data={**entry.data, CONF_SOURCE_ENTITY: entity_id},
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="choose_source",
            data_schema=source_schema(self.hass),
            errors=errors,
            description_placeholders={
                # The issue's own placeholders (the unit an unfit sensor
                # reports, for example), then the entry as it is now.
                **self._issue_placeholders(),
                "title": entry.title,
                "entity_id": entry.data[CONF_SOURCE_ENTITY],
            },
        )

    def _issue_placeholders(self) -> dict[str, str]:
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self.issue_id)
        if issue is None or issue.translation_placeholders is None:
            return {}
        return dict(issue.translation_placeholders)


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Create the flow that fixes a Kilowise issue."""
    assert data is not None
    return SourceMissingRepairFlow(str(data["entry_id"]))
