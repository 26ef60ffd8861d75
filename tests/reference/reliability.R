# Reference values for servicestudy.reliability and servicestudy.factor on a dataset WITH
# missing values: psych::bfi (2800 rows, agreeableness A1-A5, conscientiousness C1-C5,
# neuroticism N1-N5), reverse-keyed items recoded as 7 - x. Writes reliability.json and the
# data it used (reliability_bfi.csv, with a deterministic survey weight column `w`).
# Run: Rscript tests/reference/reliability.R   (from the repository root)
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
m2l <- function(m) { m <- as.matrix(m); setNames(lapply(rownames(m), function(r) as.list(m[r, ])), rownames(m)) }
capture <- function(expr) {
  warns <- character(0); msgs <- character(0)
  val <- withCallingHandlers(expr,
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") })
  list(value = val, warnings = unique(warns), messages = unique(msgs))
}
options(mc.cores = 1)  # psych bootstraps via parallel::mclapply: one core keeps set.seed reproducible
out_dir <- "tests/reference"
data(bfi, package = "psych")
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("N", 1:5))
x <- bfi[, items]
rev_items <- c("A1", "C4", "C5")
for (v in rev_items) x[[v]] <- 7 - x[[v]]
set.seed(20240601)
w <- round(runif(nrow(x), 0.5, 2.5), 6)       # survey weights, stored at 6 decimals
csv <- cbind(x, w = w)
write.csv(csv, file.path(out_dir, "reliability_bfi.csv"), row.names = FALSE, na = "")
back <- read.csv(file.path(out_dir, "reliability_bfi.csv"))
stopifnot(isTRUE(all.equal(as.matrix(back), as.matrix(csv), tolerance = 0, check.attributes = FALSE)))
scales <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), N = paste0("N", 1:5))

res <- list(
  dataset = "psych::bfi items A1-A5, C1-C5, N1-N5 (A1, C4, C5 recoded 7 - x)",
  data_file = "reliability_bfi.csv",
  n_rows = nrow(x),
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                  GPArotation = as.character(packageVersion("GPArotation")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  reverse_keyed = rev_items,
  complete_rows = sum(complete.cases(x)),
  scales = list())

for (s in names(scales)) {
  xs <- x[, scales[[s]]]
  set.seed(1010)
  a <- psych::alpha(xs, check.keys = FALSE, n.iter = 1000)
  boot <- a$boot[, 1]
  sh <- psych::splitHalf(xs, raw = FALSE, check.keys = FALSE)
  om1 <- suppressWarnings(suppressMessages(psych::omega(xs, nfactors = 1, fm = "minres", plot = FALSE)))
  R <- cor(xs, use = "pairwise")
  k <- psych::KMO(R)
  b <- psych::cortest.bartlett(R, n = nrow(xs))
  # listwise alpha
  xl <- xs[complete.cases(xs), ]
  al <- psych::alpha(xl, check.keys = FALSE)
  # weighted alpha on complete rows: unbiased weighted covariance (stats::cov.wt)
  wl <- w[complete.cases(xs)]
  cw <- stats::cov.wt(xl, wt = wl / sum(wl), method = "unbiased")$cov
  aw <- psych::alpha(cw, check.keys = FALSE)
  # ordinal alpha
  pc <- suppressWarnings(psych::polychoric(xs))
  ao <- psych::alpha(pc$rho, check.keys = FALSE)
  res$scales[[s]] <- list(
    items = scales[[s]],
    alpha = list(call = "set.seed(1010); psych::alpha(x, check.keys = FALSE, n.iter = 1000)",
                 total = as.list(a$total), alpha_drop = m2l(a$alpha.drop),
                 item_stats = m2l(a$item.stats),
                 feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
                 boot = list(seed = 1010, n_iter = 1000,
                             quantiles = as.list(quantile(boot, c(.025, .5, .975))),
                             mean = mean(boot), sd = sd(boot))),
    alpha_listwise = list(call = "psych::alpha(x[complete.cases(x), ], check.keys = FALSE)",
                          n = nrow(xl), total = as.list(al$total),
                          item_stats = m2l(al$item.stats)),
    alpha_weighted_listwise = list(
      call = "psych::alpha(cov.wt(x_complete, wt = w/sum(w), method = 'unbiased')$cov)",
      total = as.list(aw$total), item_sd = as.list(sqrt(diag(cw)))),
    splitHalf = list(maxrb = sh$maxrb, minrb = sh$minrb, meanr = sh$meanr, alpha = sh$alpha,
                     lambda2 = sh$lambda2, lambda6 = sh$lambda6, av.r = sh$av.r, med.r = sh$med.r),
    omega_1factor = list(omega_h = om1$omega_h, omega_tot = om1$omega.tot, alpha = om1$alpha,
                         G6 = om1$G6, omega_lim = om1$omega.lim, g = as.list(om1$schmid$sl[, 1])),
    KMO = list(MSA = k$MSA, MSAi = as.list(k$MSAi)),
    bartlett = list(chisq = b$chisq, df = b$df, p_value = b$p.value),
    polychoric = list(call = "psych::polychoric(x)", rho = m2l(pc$rho), tau = m2l(pc$tau)),
    ordinal_alpha = list(call = "psych::alpha(polychoric(x)$rho)", raw_alpha = ao$total$raw_alpha,
                         std.alpha = ao$total$std.alpha, G6 = ao$total[["G6(smc)"]],
                         average_r = ao$total$average_r,
                         alpha_drop = as.list(ao$alpha.drop$raw_alpha))
  )
}

# polychoric when items differ in their number of categories: psych switches to per-pair
# thresholds (global = FALSE) with the 0.5 continuity correction for empty cells
xu <- x[, scales$A]
xu$A1 <- pmin(xu$A1, 5)
pu <- capture(psych::polychoric(xu))
res$polychoric_unequal_categories <- list(
  call = "x <- A1..A5; x$A1 <- pmin(x$A1, 5); psych::polychoric(x)",
  items = scales$A, rho = m2l(pu$value$rho), warnings = pu$warnings, messages = pu$messages)

# all 15 items: fa for three methods and four rotations, omega with 3 factors
fa_out <- list()
for (fm in c("minres", "ml", "pa")) for (rot in c("none", "varimax", "oblimin", "promax")) {
  cf <- capture(psych::fa(x, nfactors = 3, fm = fm, rotate = rot))
  f <- cf$value
  L <- unclass(f$loadings)
  fa_out[[paste(fm, rot, sep = "_")]] <- list(
    call = sprintf("psych::fa(x, nfactors = 3, fm = '%s', rotate = '%s')", fm, rot),
    warnings = cf$warnings, messages = cf$messages,
    loadings = m2l(L),
    communality = as.list(f$communality), uniquenesses = as.list(f$uniquenesses),
    Vaccounted = m2l(f$Vaccounted),
    Phi = if (is.null(f$Phi)) NULL else m2l(f$Phi),
    fit = list(objective = f$objective, STATISTIC = f$STATISTIC, PVAL = f$PVAL, dof = f$dof,
               TLI = f$TLI, RMSEA = as.list(f$RMSEA), BIC = f$BIC, rms = f$rms, crms = f$crms,
               fit = f$fit, fit.off = f$fit.off, null_chisq = f$null.chisq))
}
x_ac <- x[, c(scales$A, scales$C)]
om2 <- capture(psych::omega(x_ac, nfactors = 2, fm = "minres", plot = FALSE))$value
f1 <- psych::fa(x[, scales$N], nfactors = 1, fm = "ml", rotate = "none")
res$omega_2factors <- list(
  call = "psych::omega(x[, c(A, C)], nfactors = 2, fm = 'minres', plot = FALSE)",
  items = c(scales$A, scales$C), omega_h = om2$omega_h, omega_tot = om2$omega.tot,
  alpha = om2$alpha, G6 = om2$G6, omega_lim = om2$omega.lim, ECV = om2$ECV[[1]],
  omega_group = m2l(om2$omega.group), schmid_sl = m2l(om2$schmid$sl))
res$fa_1factor_ml_N <- list(
  call = "psych::fa(x[, N], nfactors = 1, fm = 'ml', rotate = 'none')", items = scales$N,
  loadings = as.list(f1$loadings[, 1]), uniquenesses = as.list(f1$uniquenesses),
  fit = list(STATISTIC = f1$STATISTIC, dof = f1$dof, PVAL = f1$PVAL, TLI = f1$TLI,
             RMSEA = as.list(f1$RMSEA), BIC = f1$BIC, rms = f1$rms))
om3 <- suppressWarnings(psych::omega(x, nfactors = 3, fm = "minres", plot = FALSE))
set.seed(7)
fp <- psych::fa.parallel(x, fm = "minres", fa = "both", n.iter = 100, plot = FALSE)
nv <- ncol(x)
vals <- fp$values  # replicates: samp pc, samp fa, sim pc, sim fa (columns)
res$all_items <- list(
  items = items,
  fa = fa_out,
  omega_3 = list(call = "psych::omega(x, nfactors = 3, fm = 'minres', plot = FALSE)",
                 omega_h = om3$omega_h, omega_tot = om3$omega.tot, alpha = om3$alpha,
                 G6 = om3$G6, omega_lim = om3$omega.lim, ECV = om3$ECV[[1]],
                 omega_group = m2l(om3$omega.group),
                 schmid_sl = m2l(om3$schmid$sl)),
  fa_parallel = list(call = "set.seed(7); psych::fa.parallel(x, fm = 'minres', fa = 'both', n.iter = 100, plot = FALSE)",
                     n_iter = 100, nfact = fp$nfact, ncomp = fp$ncomp,
                     fa_values_observed = fp$fa.values, pc_values_observed = fp$pc.values,
                     pc_resampled_mean = colMeans(vals[, 1:nv]), pc_resampled_sd = apply(vals[, 1:nv], 2, sd),
                     fa_resampled_mean = colMeans(vals[, (nv + 1):(2 * nv)]), fa_resampled_sd = apply(vals[, (nv + 1):(2 * nv)], 2, sd),
                     pc_sim_mean = colMeans(vals[, (2 * nv + 1):(3 * nv)]), pc_sim_sd = apply(vals[, (2 * nv + 1):(3 * nv)], 2, sd),
                     fa_sim_mean = colMeans(vals[, (3 * nv + 1):(4 * nv)]), fa_sim_sd = apply(vals[, (3 * nv + 1):(4 * nv)], 2, sd))
)
jsonlite::write_json(res, file.path(out_dir, "reliability.json"), digits = I(17), auto_unbox = TRUE,
                     pretty = TRUE, null = "null", na = "null")
cat("wrote", file.path(out_dir, "reliability.json"), "\n")
