"""Tests of scripts/trainers/schedule_free.py: the paper's recursion, the state round trip, and that the
averaged iterate converges on a noisy convex problem where the base iterate cannot."""
import io
import statistics
import unittest

import torch

import protocol_checks  # noqa: F401  (puts scripts/trainers on the path)
import schedule_free  # noqa: E402

CURVATURE = torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64)
OPTIMUM = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


def quadratic_gradient(point, generator=None, noise=0.0):
    """∇ of ½ Σ_i curvature_i (w_i − optimum_i)² at `point`, plus Gaussian noise of std `noise`."""
    gradient = CURVATURE * (point - OPTIMUM)
    if noise:
        gradient = gradient + noise * torch.randn(3, generator=generator, dtype=torch.float64)
    return gradient


def take_step(optimizer, parameter, lr, generator=None, noise=0.0):
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.begin_step()
    parameter.grad = quadratic_gradient(parameter.detach(), generator, noise)
    optimizer.step()


def new_parameter():
    return torch.nn.Parameter(torch.tensor([0.3, 0.1, -0.4], dtype=torch.float64))


class RecursionTest(unittest.TestCase):
    """Both variants against the paper's equations, written out here in float64 step by step."""

    LRS = [0.1, 0.3, 0.0, 0.2, 0.05, 0.4]
    BETA = 0.9

    def expected_iterates(self, direction):
        """x after each step of LRS; `direction(t, g, y)` is d_t for the t-th step (t from 1)."""
        x = new_parameter().detach().clone()
        z = x.clone()
        lr_sq_sum, trajectory = 0.0, []
        for t, lr in enumerate(self.LRS, start=1):
            y = (1 - self.BETA) * z + self.BETA * x
            z = z - lr * direction(t, quadratic_gradient(y), y)
            lr_sq_sum += lr * lr
            c = lr * lr / lr_sq_sum
            x = (1 - c) * x + c * z
            trajectory.append(x)
        return trajectory

    def iterates(self, optimizer_class, **options):
        parameter = new_parameter()
        optimizer = optimizer_class([parameter], lr=self.LRS[0], beta=self.BETA, **options)
        trajectory = []
        for lr in self.LRS:
            take_step(optimizer, parameter, lr)
            trajectory.append(parameter.detach().clone())
        return trajectory

    def assert_trajectories_match(self, got, expected):
        self.assertEqual(len(got), len(expected))
        for step, (x_got, x_expected) in enumerate(zip(got, expected)):
            self.assertTrue(torch.allclose(x_got, x_expected, rtol=0, atol=1e-12), (step, x_got, x_expected))

    def test_schedule_free_sgd_steps_z_along_the_gradient_at_y_and_averages_x_with_weights_lr_squared(self):
        self.assert_trajectories_match(self.iterates(schedule_free.ScheduleFreeSGD),
                                       self.expected_iterates(lambda t, g, y: g))

    def test_schedule_free_adamw_divides_by_the_bias_corrected_second_moment_and_decays_at_y(self):
        beta2, eps, weight_decay = 0.99, 1e-8, 0.1
        v = torch.zeros(3, dtype=torch.float64)

        def direction(t, g, y):
            nonlocal v
            v = beta2 * v + (1 - beta2) * g * g
            return g / ((v / (1 - beta2 ** t)).sqrt() + eps) + weight_decay * y

        self.assert_trajectories_match(
            self.iterates(schedule_free.ScheduleFreeAdamW, beta2=beta2, eps=eps, weight_decay=weight_decay),
            self.expected_iterates(direction))

    def test_the_gradient_is_taken_at_y_and_the_parameters_hold_x_between_steps(self):
        parameter = new_parameter()
        optimizer = schedule_free.ScheduleFreeSGD([parameter], lr=0.2, beta=self.BETA)
        take_step(optimizer, parameter, 0.2)
        x, z = optimizer.state[parameter]["x"], optimizer.state[parameter]["z"]
        self.assertTrue(torch.equal(parameter.detach(), x))
        self.assertFalse(torch.equal(x, new_parameter().detach()))
        optimizer.begin_step()
        self.assertTrue(torch.allclose(parameter.detach(), 0.1 * z + 0.9 * x, rtol=0, atol=1e-15))

    def test_a_zero_lr_from_the_start_leaves_the_parameters_where_they_are(self):
        for optimizer_class in (schedule_free.ScheduleFreeSGD, schedule_free.ScheduleFreeAdamW):
            with self.subTest(optimizer_class.__name__):
                parameter = new_parameter()
                optimizer = optimizer_class([parameter], lr=0.0)
                for _ in range(3):
                    take_step(optimizer, parameter, 0.0)
                self.assertTrue(torch.equal(parameter.detach(), new_parameter().detach()))
                self.assertEqual(optimizer.param_groups[0]["lr_sq_sum"], 0.0)

    def test_step_needs_begin_step_first_and_takes_no_closure(self):
        parameter = new_parameter()
        optimizer = schedule_free.ScheduleFreeSGD([parameter], lr=0.1)
        parameter.grad = torch.ones(3, dtype=torch.float64)
        with self.assertRaises(RuntimeError):
            optimizer.step()
        optimizer.begin_step()
        with self.assertRaises(ValueError):
            optimizer.step(lambda: 0.0)


class StateTest(unittest.TestCase):
    def test_a_state_dict_round_trip_continues_exactly_where_the_original_goes(self):
        for optimizer_class in (schedule_free.ScheduleFreeSGD, schedule_free.ScheduleFreeAdamW):
            with self.subTest(optimizer_class.__name__):
                generator = torch.Generator().manual_seed(5)
                parameter = new_parameter()
                optimizer = optimizer_class([parameter], lr=0.1)
                for lr in (0.1, 0.2, 0.15):
                    take_step(optimizer, parameter, lr, generator, noise=0.3)
                buffer = io.BytesIO()
                torch.save({"model": parameter.detach().clone(), "optimizer": optimizer.state_dict()}, buffer)
                buffer.seek(0)
                saved = torch.load(buffer)
                group = saved["optimizer"]["param_groups"][0]
                self.assertEqual(group["step"], 3)
                self.assertAlmostEqual(group["lr_sq_sum"], 0.1 ** 2 + 0.2 ** 2 + 0.15 ** 2, places=15)
                self.assertTrue({"x", "z"} <= set(saved["optimizer"]["state"][0]))

                restored = torch.nn.Parameter(saved["model"])
                restored_optimizer = optimizer_class([restored], lr=0.5)
                restored_optimizer.load_state_dict(saved["optimizer"])
                restored_generator = torch.Generator()
                restored_generator.set_state(generator.get_state())
                for lr in (0.05, 0.3):
                    take_step(optimizer, parameter, lr, generator, noise=0.3)
                    take_step(restored_optimizer, restored, lr, restored_generator, noise=0.3)
                self.assertTrue(torch.equal(parameter.detach(), restored.detach()))
                for name, tensor in optimizer.state[parameter].items():
                    self.assertTrue(torch.equal(tensor, restored_optimizer.state[restored][name]), name)
                self.assertEqual(optimizer.param_groups[0]["lr_sq_sum"], restored_optimizer.param_groups[0]["lr_sq_sum"])


class ConvergenceTest(unittest.TestCase):
    """At a constant LR with noisy gradients the base iterate z stalls at a noise floor; Schedule-Free's
    x is its average and keeps approaching the optimum, as a decaying schedule would."""

    def errors(self, optimizer_class, lr, seed, checkpoints):
        generator = torch.Generator().manual_seed(seed)
        parameter = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        optimizer = optimizer_class([parameter], lr=lr)
        errors = {}
        for step in range(1, max(checkpoints) + 1):
            take_step(optimizer, parameter, lr, generator, noise=0.5)
            if step in checkpoints:
                errors[step] = ((parameter.detach() - OPTIMUM).norm().item(),
                                (optimizer.state[parameter]["z"] - OPTIMUM).norm().item())
        return errors

    def test_x_converges_where_z_stalls(self):
        for optimizer_class in (schedule_free.ScheduleFreeSGD, schedule_free.ScheduleFreeAdamW):
            with self.subTest(optimizer_class.__name__):
                runs = [self.errors(optimizer_class, 0.1, seed, (250, 4000)) for seed in range(4)]
                x_early = statistics.mean(run[250][0] for run in runs)
                x_late = statistics.mean(run[4000][0] for run in runs)
                z_late = statistics.mean(run[4000][1] for run in runs)
                self.assertLess(x_late, 0.1)  # from 2.3 at the start
                self.assertLess(x_late, 0.5 * x_early)
                self.assertLess(x_late, 0.15 * z_late)


if __name__ == "__main__":
    unittest.main()
