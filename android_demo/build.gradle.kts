// AGP 8.9 is what ExecuTorch builds its own Android library with; it needs Gradle 8.11.1+ and JDK 17.
plugins {
    id("com.android.application") version "8.9.0" apply false
}
