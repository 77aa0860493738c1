//! The one hand-over of a `good_lp` model to HiGHS, shared by the scratchpad mapper and the
//! operator placer: objective and rows into a raw [`highs::Model`], then its options set, each
//! rejection reported as `HiGHS rejected option NAME` through the caller's error type.

use good_lp::{Constraint, Expression, ProblemVariables, SolverModel};

/// Builds the HiGHS model that minimises `objective` over `vars` subject to `rows`, with the
/// HiGHS `options` (name, value) set in order. `solver_error` wraps a message in the caller's
/// solver error.
pub(crate) fn highs_model<E>(
    vars: ProblemVariables,
    objective: impl Into<Expression>,
    rows: Vec<Constraint>,
    options: &[(&str, f64)],
    solver_error: fn(String) -> E,
) -> Result<highs::Model, E> {
    let mut problem = vars
        .minimise(objective.into())
        .using(good_lp::solvers::highs::highs);
    for r in rows {
        problem.add_constraint(r);
    }
    let mut model = problem
        .try_into_inner()
        .map_err(|e| solver_error(e.to_string()))?;
    for &(name, value) in options {
        model
            .try_set_option(name, value)
            .map_err(|_| solver_error(format!("HiGHS rejected option {name}")))?;
    }
    Ok(model)
}
