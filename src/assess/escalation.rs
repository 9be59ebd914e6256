//! SPEC 4.4: the escalation stage, walked period by period. Only the walk lives here; whether
//! a period is below target and improving is decided by `rag` and `direction`.

use crate::framework::Escalation;

/// One period of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// No value (nothing sent, suppressed, or a failed roll-up): keeps the stage and the
    /// counts, breaks nothing.
    NoValue,
    /// A value that is not below target, or has no target, or polarity `none`: stage 0.
    NotBelow,
    /// A value below target (dev < 0); `improving` is the direction of 4.3 at that period.
    Below { improving: bool },
}

/// The escalation state carried from period to period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Walker {
    pub stage: u8,
    /// Consecutive periods with values below target.
    below_run: u32,
    /// Periods with values below target since stage 2 was reached (`None` before).
    since_action: Option<u32>,
}

impl Walker {
    /// Advance one period and return the stage at it.
    pub fn step(&mut self, step: Step, rules: Escalation, fast_track: Option<u8>) -> u8 {
        match step {
            Step::NoValue => {}
            Step::NotBelow => *self = Walker::default(),
            Step::Below { improving } => {
                self.below_run = self.below_run.saturating_add(1);
                match self.since_action {
                    Some(n) => {
                        let n = n.saturating_add(1);
                        self.since_action = Some(n);
                        self.stage = if n >= rules.intervention_after { 3 } else { 2 };
                    }
                    None if self.below_run >= rules.action_after && !improving => {
                        self.since_action = Some(0);
                        self.stage = if rules.intervention_after == 0 { 3 } else { 2 };
                    }
                    None => self.stage = 1,
                }
                if let Some(n) = fast_track {
                    let n = n.min(3);
                    if self.stage < n {
                        self.stage = n;
                        if n >= 2 && self.since_action.is_none() {
                            // A stage 2 (or 3) reached by fast track starts the count.
                            self.since_action = Some(0);
                        }
                    }
                }
            }
        }
        self.stage
    }
}

/// The stage after each step, in order.
pub fn stages(steps: &[Step], rules: Escalation, fast_track: Option<u8>) -> Vec<u8> {
    let mut w = Walker::default();
    steps
        .iter()
        .map(|s| w.step(*s, rules, fast_track))
        .collect()
}

/// The stage after the last step (0 for an empty walk).
pub fn stage(steps: &[Step], rules: Escalation, fast_track: Option<u8>) -> u8 {
    let mut w = Walker::default();
    for s in steps {
        w.step(*s, rules, fast_track);
    }
    w.stage
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{stage, stages, Step};
    use crate::framework::Escalation;

    const STD: Escalation = Escalation {
        action_after: 2,
        intervention_after: 1,
    };
    const B: Step = Step::Below { improving: false };
    const BI: Step = Step::Below { improving: true };
    const OK: Step = Step::NotBelow;
    const GAP: Step = Step::NoValue;

    #[test]
    fn standard_walk() {
        // riverside NI 65: s1, worsening s2, s3, s3
        assert_eq!(stages(&[OK, B, B, B, B], STD, None), vec![0, 1, 2, 3, 3]);
        // back on target resets everything
        assert_eq!(stages(&[B, B, OK, B], STD, None), vec![1, 2, 0, 1]);
    }

    #[test]
    fn improving_holds_at_one() {
        // riverside NI 62: below, below but improving (1), below and worsening (2)
        assert_eq!(stages(&[B, BI, B], STD, None), vec![1, 1, 2]);
        // CF 06: improving every period never reaches 2
        assert_eq!(stage(&[B, BI, BI, BI, BI, BI], STD, None), 1);
        // once at 2 improving does not lower it, and intervention follows whatever the direction
        assert_eq!(stages(&[B, B, BI], STD, None), vec![1, 2, 3]);
    }

    #[test]
    fn missing_period_keeps_stage_and_breaks_nothing() {
        // riverside CF 05: below (1), no return (1), below with n/a direction (2)
        assert_eq!(stages(&[B, GAP, B], STD, None), vec![1, 1, 2]);
        // a gap does not count towards intervention either
        assert_eq!(stages(&[B, B, GAP, GAP, B], STD, None), vec![1, 2, 2, 2, 3]);
        // nor does it reset
        assert_eq!(stages(&[B, B, B, GAP], STD, None), vec![1, 2, 3, 3]);
        assert_eq!(stage(&[GAP, GAP], STD, None), 0);
    }

    #[test]
    fn variants() {
        let slow = Escalation {
            action_after: 3,
            intervention_after: 2,
        };
        assert_eq!(
            stages(&[B, B, B, B, B, B], slow, None),
            vec![1, 1, 2, 2, 3, 3]
        );
        let quick = Escalation {
            action_after: 1,
            intervention_after: 1,
        };
        assert_eq!(stages(&[B, B], quick, None), vec![2, 3]);
        assert_eq!(stages(&[BI, B], quick, None), vec![1, 2]);
    }

    #[test]
    fn fast_track() {
        // riverside NI 64: on target, then straight to 3
        assert_eq!(stages(&[OK, OK, B], STD, Some(3)), vec![0, 0, 3]);
        // fast track 2 starts the intervention count
        assert_eq!(stages(&[BI, BI], STD, Some(2)), vec![2, 3]);
        assert_eq!(stages(&[B, OK, B], STD, Some(2)), vec![2, 0, 2]);
        // fast track 1 changes nothing below target
        assert_eq!(stages(&[BI, B, B], STD, Some(1)), vec![1, 2, 3]);
    }

    fn any_step() -> impl Strategy<Value = Step> {
        prop_oneof![Just(B), Just(BI), Just(OK), Just(GAP)]
    }

    proptest! {
        #[test]
        fn rises_at_most_one_without_fast_track(
            steps in proptest::collection::vec(any_step(), 0..40),
            action_after in 2u32..5, intervention_after in 1u32..4,
        ) {
            let rules = Escalation { action_after, intervention_after };
            let mut before = 0u8;
            for s in stages(&steps, rules, None) {
                prop_assert!(s <= before + 1);
                prop_assert!(s <= 3);
                before = s;
            }
        }
    }
}
