//! The mapping lifecycle.
//!
//! ```text
//!            Create(enabled)             Create(disabled)
//!                 |                            |
//!                 v                            v
//!             Creating --settle--> Enabled <--settle-- Enabling
//!                                  |  ^  \                ^
//!                 Update(false)    |  |   \ Update(..)    | Update(true)
//!                                  v  |    v              |
//!                          Disabling  |  Updating --settle--> Enabled | Disabled
//!                                  |  |
//!                           settle v  |
//!                               Disabled
//!   any settled state --Delete--> Deleting --settle--> (gone)
//! ```
//!
//! Every request-driven move goes through [`MappingState::on_update`] or
//! [`MappingState::on_delete`]; the coordinator completes transitional states with
//! [`MappingState::settle`] once the pollers have started or stopped. A request that arrives
//! while a transition is in flight is refused with `ResourceInUseException`, as on AWS.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingState {
    Creating,
    Enabling,
    Enabled,
    Disabling,
    Disabled,
    Updating,
    Deleting,
}

/// What [`MappingState::settle`] leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The mapping rests in this state.
    State(MappingState),
    /// The mapping is to be removed.
    Gone,
}

impl MappingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "Creating",
            Self::Enabling => "Enabling",
            Self::Enabled => "Enabled",
            Self::Disabling => "Disabling",
            Self::Disabled => "Disabled",
            Self::Updating => "Updating",
            Self::Deleting => "Deleting",
        }
    }

    /// The state a new mapping starts in.
    pub fn on_create(enabled: bool) -> Self {
        if enabled {
            Self::Creating
        } else {
            Self::Disabled
        }
    }

    /// True while a transition is in flight.
    pub fn is_transitional(self) -> bool {
        !matches!(self, Self::Enabled | Self::Disabled)
    }

    /// The state after an accepted Update. `enabled` is the request's `Enabled`, if given.
    /// `Err(())` when a transition is in flight (ResourceInUseException).
    #[allow(clippy::result_unit_err)]
    pub fn on_update(self, enabled: Option<bool>) -> Result<Self, ()> {
        match (self, enabled) {
            (s, _) if s.is_transitional() => Err(()),
            (Self::Enabled, Some(false)) => Ok(Self::Disabling),
            (Self::Disabled, Some(true)) => Ok(Self::Enabling),
            _ => Ok(Self::Updating),
        }
    }

    /// The state after an accepted Delete. `Err(())` while another transition is in flight.
    #[allow(clippy::result_unit_err)]
    pub fn on_delete(self) -> Result<Self, ()> {
        match self {
            Self::Enabled | Self::Disabled | Self::Creating => Ok(Self::Deleting),
            _ => Err(()),
        }
    }

    /// Where a transitional state comes to rest; `enabled` is the mapping's desired state.
    pub fn settle(self, enabled: bool) -> Settled {
        match self {
            Self::Creating | Self::Enabling => Settled::State(Self::Enabled),
            Self::Disabling => Settled::State(Self::Disabled),
            Self::Updating if enabled => Settled::State(Self::Enabled),
            Self::Updating => Settled::State(Self::Disabled),
            Self::Deleting => Settled::Gone,
            s @ (Self::Enabled | Self::Disabled) => Settled::State(s),
        }
    }
}
